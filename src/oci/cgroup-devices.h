/* Device rules on cgroup v2: an eBPF program attached to the cgroup. */
#ifndef CAPSULE_OCI_CGROUP_DEVICES_H
#define CAPSULE_OCI_CGROUP_DEVICES_H

#include "spec.h"

int cg_v2_devices(const char *dir, const struct oci_resources *res, cap_err *err);

#endif
