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

#include <jansson.h>

#include "spec.h"

enum cg_mode { CG_V1, CG_HYBRID, CG_V2 };

#define CG_MAX_HIER 16

struct cg_hier {
	char mnt[PATH_MAX];      /* mount point */
	char opts[128];          /* controllers, e.g. "cpu,cpuacct" or "name=systemd"; "" for v2 */
	char own[PATH_MAX];      /* our own cgroup in it, from /proc/self/cgroup */
	char base[PATH_MAX];     /* prefix of the container's path in it: "" for an absolute
				  * cgroupsPath, the creator's own cgroup there for a relative one */
	/* Length of the prefix of the container's path whose directory was the first cg_create
	 * made here (the ancestors below it too): removing the container removes those, when
	 * empty, as well. 0: create made no ancestor (or is not known to have). */
	size_t made_len;
	bool v2;
};

struct cg_layout {
	enum cg_mode mode;
	struct cg_hier h[CG_MAX_HIER];
	int n;
};

/* Read /proc/self/mountinfo and /proc/self/cgroup once. */
int cg_layout_detect(struct cg_layout *l, cap_err *err);

/* Turn config.json's cgroupsPath into the container's cgroup path: absolute from each
 * hierarchy's root, or relative, which is resolved in every hierarchy against the runtime's
 * own cgroup in THAT hierarchy (runc's rule: a caller in memory:/a/b but cpu:/ gets its
 * container under /a/b in memory and under / in cpu). The per-hierarchy prefix goes to
 * h->base; out is the part after it. "." and ".." components are refused (a path must not
 * leave its parent) and so is a path naming a hierarchy's root.
 * systemd: "slice:prefix:name" -> "/<expanded slice>/<prefix>-<name>.scope". */
int cg_resolve_path(struct cg_layout *l, const char *cgroups_path, const char *id, bool systemd,
		    char *out, size_t outsz, cap_err *err);

/* The prefixes (h->base) as a JSON object keyed by hierarchy (its controllers, "" for v2),
 * for state.json; NULL when every base is empty. cg_layout_bind restores them in a later
 * command's freshly detected layout. */
json_t *cg_bases_json(const struct cg_layout *l);
void cg_layout_bind(struct cg_layout *l, json_t *bases);
/* The directory of the container's cgroup path in hierarchy h. */
void cg_dir(const struct cg_hier *h, const char *path, char *out, size_t sz);

/* mkdir in every hierarchy and apply res (may be NULL). On failure removes what it made.
 * Sets each h->made_len. */
int cg_create(struct cg_layout *l, const char *path, const struct oci_resources *res,
	      unsigned *made_mask, cap_err *err);   /* made_mask: hierarchies whose cgroup we made */
/* The ancestors cg_create made (h->made_len) as a JSON object keyed by hierarchy (its
 * controllers, "" for v2) for state.json; NULL when it made none. cg_made_bind restores them
 * into a later command's layout (a value that is not a proper prefix of path is ignored). */
json_t *cg_made_json(const struct cg_layout *l, const char *path);
void cg_made_bind(struct cg_layout *l, const char *path, json_t *made);
int cg_enter(const struct cg_layout *l, const char *path, pid_t pid, cap_err *err);
int cg_apply(const struct cg_layout *l, const char *path, const struct oci_resources *res,
	     cap_err *err);
/* Remove the cgroup and its sub-cgroups (deepest first) in every hierarchy, or those in mask;
 * -EBUSY etc. when one remains. Then the ancestors create made (h->made_len) that are empty,
 * deepest first (one that is not, say a sibling container's parent, stays). */
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
