/* Resources on one cgroup v1 hierarchy. */
#ifndef CAPSULE_OCI_CGROUP_V1_H
#define CAPSULE_OCI_CGROUP_V1_H

#include "spec.h"

/* ctrls: the hierarchy's controllers ("cpu,cpuacct"); only their files are written.
 * dir is the cgroup's full directory. */
int cg_v1_apply(const char *ctrls, const char *dir, const struct oci_resources *res, cap_err *err);

#endif
