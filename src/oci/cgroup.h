/* Container cgroups on cgroup v1, hybrid (v1 + a unified mount) and pure v2 hosts.
 *
 * A container's cgroup is one path (e.g. "/capsule/ID") created under every mounted
 * hierarchy: each v1 hierarchy, and the v2 tree (pure v2: /sys/fs/cgroup; hybrid: the
 * "unified" mount, which on hybrid hosts holds the controllers v1 does not). */
#ifndef CAPSULE_OCI_CGROUP_H
#define CAPSULE_OCI_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "spec.h"

enum cg_mode { CG_V1, CG_HYBRID, CG_V2 };

#define CG_MAX_HIER 16

struct cg_hier {
	char mnt[PATH_MAX];      /* mount point */
	char opts[128];          /* controllers, e.g. "cpu,cpuacct" or "name=systemd"; "" for v2 */
	char own[PATH_MAX];      /* our own cgroup in it, from /proc/self/cgroup */
	bool v2;
};

struct cg_layout {
	enum cg_mode mode;
	struct cg_hier h[CG_MAX_HIER];
	int n;
};

/* Read /proc/self/mountinfo and /proc/self/cgroup once. */
int cg_layout_detect(struct cg_layout *l, cap_err *err);

/* Turn config.json's cgroupsPath into an absolute cgroup path (same in every hierarchy,
 * relative paths are resolved against our own cgroup of the first hierarchy).
 * systemd: "slice:prefix:name" -> "/<expanded slice>/<prefix>-<name>.scope". */
int cg_resolve_path(const struct cg_layout *l, const char *cgroups_path, const char *id, bool systemd,
		    char *out, size_t outsz, cap_err *err);

/* mkdir in every hierarchy and apply res (may be NULL). On failure removes what it made. */
int cg_create(const struct cg_layout *l, const char *path, const struct oci_resources *res,
	      unsigned *made_mask, cap_err *err);   /* made_mask: hierarchies whose cgroup we made */
int cg_enter(const struct cg_layout *l, const char *path, pid_t pid, cap_err *err);
int cg_apply(const struct cg_layout *l, const char *path, const struct oci_resources *res,
	     cap_err *err);
/* rmdir everywhere; returns -EBUSY if tasks are still inside after a short wait. */
/* Remove the cgroup and its sub-cgroups (deepest first) in every hierarchy, or those in mask;
 * -EBUSY etc. when one remains. */
int cg_destroy(const struct cg_layout *l, const char *path);
int cg_destroy_some(const struct cg_layout *l, const char *path, unsigned mask);
/* Signal every process in the cgroup and its sub-cgroups. */
int cg_kill_all(const struct cg_layout *l, const char *path, int sig);
/* The pids in the container's cgroup (malloc'd array). */
int cg_pids(const struct cg_layout *l, const char *path, pid_t **pids, size_t *n);   /* subtree */
int cg_freeze(const struct cg_layout *l, const char *path, bool freeze, cap_err *err);

/* Is ctrl one of the controllers of hierarchy h (v1)? */
bool cg_has_ctrl(const struct cg_hier *h, const char *ctrl);

#endif
