/* An image config and `capsule run`'s options become a runtime config, as the OCI image-spec's
 * conversion document says (image-spec/conversion.md):
 *   Config.Env          -> process.env (the run's -e entries replace the same keys; PATH is
 *                          the usual default when neither gives one)
 *   Config.Entrypoint   -> process.args, then Config.Cmd; --entrypoint replaces the entrypoint
 *                          (and drops the image's Cmd), CMD... on the command line replaces Cmd
 *   Config.WorkingDir   -> process.cwd ("/" when empty; -w replaces it)
 *   Config.User         -> process.user: "uid", "uid:gid", "name", "name:group", resolved in
 *                          the image's own /etc/passwd and /etc/group (opened inside the rootfs,
 *                          never following a link out of it); supplementary groups from
 *                          /etc/group; -u replaces it
 *   Config.ExposedPorts -> annotation org.opencontainers.image.exposedPorts (comma list)
 *   Config.StopSignal   -> annotation org.opencontainers.image.stopSignal
 *   Config.Labels       -> annotations (a label never overrides one of the above)
 * Config.Volumes are the caller's (engine_volumes lists them). */
#ifndef CAPSULE_ENGINE_CONVERT_H
#define CAPSULE_ENGINE_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "../lib/error.h"

#define ENGINE_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct engine_run_opts {
	const char *const *cmd;       /* CMD... from the command line (n_cmd 0: the image's) */
	size_t n_cmd;
	const char *entrypoint;       /* --entrypoint: NULL the image's, "" none */
	const char *const *env;       /* -e KEY=VALUE (a bare KEY takes the caller's value) */
	size_t n_env;
	const char *workdir;          /* -w */
	const char *user;             /* -u USER[:GROUP] */
	const char *hostname;
	bool tty;
	int64_t memory;               /* bytes, 0 = unlimited */
	double cpus;                  /* 0 = unlimited */
	int64_t pids;                 /* 0 = unlimited */
};

/* Fill spec (a runtime config, e.g. oci_sb_default()) from the image config (the image's config
 * blob: {"config": {...}, ...}; may be NULL) and o. rootfs: the container's root, for names. */
int engine_spec_from_image(json_t *spec, const json_t *image_config, const char *rootfs,
			   const struct engine_run_opts *o, cap_err *err);

/* Resolve "user[:group]" (names or numbers) against rootfs's /etc/passwd and /etc/group.
 * *ngroups (<= max) gets the supplementary groups of a named user. */
int engine_resolve_user(const char *rootfs, const char *spec, uint32_t *uid, uint32_t *gid,
			uint32_t *groups, size_t max, size_t *ngroups, cap_err *err);

#endif
