/* Resources on the unified (v2) hierarchy. */
#ifndef CAPSULE_OCI_CGROUP_V2_H
#define CAPSULE_OCI_CGROUP_V2_H

#include <stdbool.h>
#include <stddef.h>

#include "spec.h"

/* dir is the cgroup's full directory; hybrid: only the controllers v1 lacks are there. */
int cg_v2_apply(const char *dir, const struct oci_resources *res, bool hybrid, cap_err *err);
/* Enable every available controller in the subtree_control of each ancestor of path
 * (below mnt), creating the ancestors; *first_made: the length of the first directory it
 * made (mnt included), left alone if it made none. */
int cg_v2_enable_controllers(const char *mnt, const char *path, size_t *first_made, cap_err *err);

#endif
