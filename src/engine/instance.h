/* Managed containers (instances) of the engine, next to the image store:
 *
 *   ROOT/containers/ID/instance.json   the record: id, name, image, command, status, exit code,
 *                                      times, the monitor's pid (written atomically)
 *   ROOT/containers/ID/bundle/         config.json (the runtime config), rootfs/ (the overlay
 *                                      mount point while the container runs)
 *   ROOT/containers/ID/upper, work/    the container's writable overlay layer
 *   ROOT/containers/ID/ctr.log         its output: JSON lines {"time","stream","log"}
 *   ROOT/containers.lock               flock around creating a name and removing an instance
 *   ROOT/oci/                          the runtime's state root for these containers
 *
 * The record says what the engine last wrote; instance_status() tells the truth by asking the
 * runtime and checking the monitor, so a killed monitor or CLI never leaves a "running" lie. */
#ifndef CAPSULE_ENGINE_INSTANCE_H
#define CAPSULE_ENGINE_INSTANCE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#include "../image/store.h"
#include "../lib/error.h"

#define INSTANCE_ID_LEN 64

struct instance {
	char id[INSTANCE_ID_LEN + 1];
	char dir[PATH_MAX];
	json_t *rec;   /* instance.json */
};

/* Where the runtime keeps these containers' state: ROOT/oci. */
int instance_oci_root(const struct store *s, char *buf, size_t sz);

/* A new instance for image (id + the reference the user gave), with an unused name (NULL: one
 * is made up). Its directory and record exist when this returns 0. */
int instance_new(struct store *s, const char *name, const char *image_id, const char *image_ref,
		 struct instance *in, cap_err *err);
/* By full id, unique id prefix (4+ hex digits) or name. */
int instance_find(const struct store *s, const char *ref, struct instance *in, cap_err *err);
void instance_free(struct instance *in);
/* Write the record (temp file + rename). */
int instance_save(const struct instance *in, cap_err *err);
/* Every instance, oldest first (malloc'd array; instance_list_free). */
int instance_list(const struct store *s, struct instance **out, size_t *n, cap_err *err);
void instance_list_free(struct instance *v, size_t n);
/* Remove the directory (the rootfs must be unmounted). */
int instance_remove(struct store *s, struct instance *in, cap_err *err);

enum instance_state { INST_CREATED, INST_RUNNING, INST_PAUSED, INST_EXITED };
/* The truth: the runtime's state of the container if it has one, else the record; a record
 * saying "running" with no container behind it is exited (exit code unknown: -1). */
enum instance_state instance_status(const struct store *s, const struct instance *in, int *exit_code);
const char *instance_state_name(enum instance_state st);

/* Record fields. */
const char *instance_str(const struct instance *in, const char *key);
int instance_set_str(struct instance *in, const char *key, const char *v);
int instance_set_int(struct instance *in, const char *key, long long v);
long long instance_int(const struct instance *in, const char *key, long long dflt);
/* "2026-12-04T01:02:03.123456789Z" for now, into buf. */
void instance_now(char *buf, size_t sz);

#endif
