/* Container state: <root>/<id>/state.json plus the exec fifo, guarded by flock on the
 * directory. state.json holds the runtime-spec state fields and what later commands
 * need without the bundle (cgroup path, namespaces, poststop hooks). */
#ifndef CAPSULE_OCI_STATE_H
#define CAPSULE_OCI_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#include "../lib/error.h"
#include "oci.h"

#define OCI_FIFO "exec.fifo"

struct oci_state {
	char dir[PATH_MAX];
	int dirfd;             /* locked with flock while held */
	json_t *j;             /* state.json contents */
	const char *id, *bundle, *cgroup;
	pid_t pid;
	unsigned long long starttime;
	enum oci_status status;
};

/* Reject ids that could escape the root ("..", "/", control characters). */
int oci_id_check(const char *id, cap_err *err);

/* mkdir <root>/<id>; "container X already exists" if it does. Takes the lock. */
int oci_state_new(const char *root, const char *id, struct oci_state *st, cap_err *err);
/* Load and lock; "container X does not exist" (returns -ENOENT). Computes st->status. A
 * directory without state.json (a create killed before its first write) is a stopped
 * container with an empty record. */
int oci_state_load(const char *root, const char *id, struct oci_state *st, cap_err *err);
/* Write st->j atomically (temporary file, rename). */
int oci_state_save(struct oci_state *st, cap_err *err);
/* Remove the directory and everything in it. */
void oci_state_remove(struct oci_state *st);
void oci_state_close(struct oci_state *st);

/* /proc/PID/stat field 22; 0 if the process is gone or a zombie. */
unsigned long long oci_proc_starttime(pid_t pid);
enum oci_status oci_state_status(struct oci_state *st);

/* The runtime-spec state object (ociVersion, id, status, pid, bundle, annotations). */
json_t *oci_state_public(struct oci_state *st);

/* The public view of st (oci.h), for the caller to keep after st is closed. */
void oci_state_export(struct oci_state *st, struct oci_container_state *out);

#endif
