/* Building a runtime config (config.json) in C: the default `capsule oci spec` writes, and
 * the edits an engine makes to turn an image config into a container's config.
 *
 * The config is a jansson tree the caller owns (json_decref); every function edits it in
 * place and returns 0, or -EINVAL with err filled when an argument is not valid for the
 * runtime-spec (a relative path, an unknown namespace, capability or rlimit name, an env
 * entry without '='). Objects and arrays a function needs are created when missing, so
 * the functions also work on a config that did not come from oci_sb_default(). Strings are
 * copied. What the builder writes, oci_spec_parse reads back (the unit tests check both). */
#ifndef CAPSULE_OCI_SPEC_BUILDER_H
#define CAPSULE_OCI_SPEC_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "../lib/error.h"

/* The default config: sh on a terminal, rootfs "rootfs" read-only, the usual mounts and
 * namespaces, three capabilities, RLIMIT_NOFILE 1024, noNewPrivileges, all devices denied. */
json_t *oci_sb_default(void);
/* runc's rootless variant (spec --rootless): a user namespace mapping the container's root
 * to host_uid/host_gid (size 1) instead of a network one, /sys bind-mounted from the host,
 * no uid=/gid= mount options, no linux.resources. */
int oci_sb_make_rootless(json_t *spec, uid_t host_uid, gid_t host_gid, cap_err *err);

/* process */
int oci_sb_set_args(json_t *spec, const char *const *args, size_t n, cap_err *err);
/* "KEY=VALUE": replaces the entry with the same KEY, else appends. */
int oci_sb_set_env(json_t *spec, const char *kv, cap_err *err);
int oci_sb_unset_env(json_t *spec, const char *key, cap_err *err);
int oci_sb_set_cwd(json_t *spec, const char *cwd, cap_err *err);
int oci_sb_set_user(json_t *spec, uid_t uid, gid_t gid, const gid_t *additional, size_t n_additional,
		    cap_err *err);
int oci_sb_set_terminal(json_t *spec, bool terminal, cap_err *err);
/* Capability sets, a mask of OCI_SB_CAP_*: each named set becomes exactly caps. */
enum {
	OCI_SB_CAP_BOUNDING = 1 << 0, OCI_SB_CAP_EFFECTIVE = 1 << 1, OCI_SB_CAP_PERMITTED = 1 << 2,
	OCI_SB_CAP_INHERITABLE = 1 << 3, OCI_SB_CAP_AMBIENT = 1 << 4,
	/* the four sets the default config fills (not inheritable) */
	OCI_SB_CAP_DEFAULT_SETS = OCI_SB_CAP_BOUNDING | OCI_SB_CAP_EFFECTIVE | OCI_SB_CAP_PERMITTED |
				  OCI_SB_CAP_AMBIENT,
};
int oci_sb_set_caps(json_t *spec, unsigned sets, const char *const *caps, size_t n, cap_err *err);
/* "RLIMIT_NOFILE" etc.: replaces a limit of the same type, else appends. */
int oci_sb_set_rlimit(json_t *spec, const char *type, uint64_t soft, uint64_t hard, cap_err *err);

/* root, hostname */
int oci_sb_set_root(json_t *spec, const char *path, bool readonly, cap_err *err);
int oci_sb_set_hostname(json_t *spec, const char *hostname, cap_err *err);

/* mounts: add replaces a mount with the same destination (keeping its place). */
int oci_sb_add_mount(json_t *spec, const char *dest, const char *type, const char *source,
		     const char *const *options, size_t n_options, cap_err *err);
int oci_sb_remove_mount(json_t *spec, const char *dest, cap_err *err);

/* namespaces ("pid", "network", ...): add replaces one of the same type; path NULL = new. */
int oci_sb_add_namespace(json_t *spec, const char *type, const char *path, cap_err *err);
int oci_sb_remove_namespace(json_t *spec, const char *type, cap_err *err);

/* linux.resources. memory: bytes (-1 unlimited). cpu: shares 0, quota/period 0 = leave
 * unchanged. pids: -1 unlimited. */
int oci_sb_set_memory_limit(json_t *spec, int64_t bytes, cap_err *err);
int oci_sb_set_cpu(json_t *spec, uint64_t shares, int64_t quota, uint64_t period, cap_err *err);
int oci_sb_set_pids_limit(json_t *spec, int64_t limit, cap_err *err);

int oci_sb_set_annotation(json_t *spec, const char *key, const char *value, cap_err *err);

#endif
