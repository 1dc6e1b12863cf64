/* capsule run: an image from the store becomes a managed container (an instance, instance.h).
 *
 * engine_run() makes the instance (record, bundle, runtime config from the image config and the
 * options, convert.h), mounts its root (an overlay of the image's unpacked layers, shared by
 * every container of the image, under the container's own upper layer) and then either
 *  - runs it in the foreground on the caller's stdio and returns its exit status, or
 *  - (detach) hands it to its monitor (monitor.c): a process of its own that holds the
 *    container's stdout/stderr, writes them to ctr.log, waits for it, records its exit status,
 *    unmounts its root and survives the CLI; engine_run returns once the program runs.
 * Whatever fails on the way leaves no instance, mount or runtime state behind. */
#ifndef CAPSULE_ENGINE_RUN_H
#define CAPSULE_ENGINE_RUN_H

#include <stdbool.h>

#include "../image/store.h"
#include "convert.h"
#include "instance.h"
#include "net.h"

enum engine_network { ENGINE_NET_NONE, ENGINE_NET_HOST, ENGINE_NET_BRIDGE };

struct engine_volume {
	const char *host, *ctr;
	bool ro;
};

struct engine_run_args {
	const char *image;            /* reference: name[:tag], id or id prefix */
	const char *name;             /* NULL: made up */
	struct engine_run_opts proc;  /* the process and its limits */
	enum engine_network net;
	const struct engine_volume *volumes;
	size_t n_volumes;
	const struct engine_port *ports;  /* -p: with ENGINE_NET_BRIDGE */
	size_t n_ports;
	bool detach, rm;
};

/* Returns the exit status of a foreground container, or 0 once a detached one runs (its id into
 * id_out when not NULL), or -1 with err set. */
int engine_run(struct store *s, const struct engine_run_args *a, char *id_out, cap_err *err);

/* Docker's default capability set, which images expect root in a container to have. */
extern const char *const engine_caps[];
extern const size_t engine_n_caps;

/* An overlay at target of the lowers (lowers[0] the bottom), with upper and work (NULL: read-only). */
int engine_overlay_mount(const char *target, char (*lowers)[PATH_MAX], size_t n, const char *upper,
			 const char *work, cap_err *err);
/* The image's unpacked layer directories, bottom first, above the empty directory empty (made
 * here): a malloc'd array for engine_overlay_mount. */
int engine_image_lowers(struct store *s, const struct store_image *img, const char *empty, char (**out)[PATH_MAX],
			size_t *n, cap_err *err);

/* The overlay root and the runtime state of an instance: mount / unmount. */
int engine_mount_root(struct store *s, struct instance *in, cap_err *err);
void engine_unmount_root(struct instance *in);
/* After the container ended: record the status, drop the runtime state and the mount, and with
 * rm remove the instance. */
void engine_finish(struct store *s, struct instance *in, int exit_code, bool rm);

/* The bridge network of an instance (its "ip" and "ports" in the record) taken down and its
 * address released; nothing when it has none. */
void engine_net_cleanup(struct store *s, struct instance *in);

/* monitor.c: start the created container (its init a child of the monitor) and watch it. */
int engine_monitor_start(struct store *s, struct instance *in, bool rm, cap_err *err);

/* ops.c: what the other commands do to an instance. */
int engine_stop(struct store *s, struct instance *in, int timeout_s, cap_err *err);
int engine_kill(struct store *s, struct instance *in, int sig, cap_err *err);
int engine_rm(struct store *s, struct instance *in, bool force, cap_err *err);
/* Wait until it exited; its exit code (-1 unknown). */
int engine_wait(struct store *s, struct instance *in, int *exit_code, cap_err *err);

#endif
