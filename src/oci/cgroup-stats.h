/* A container's resource usage read from its cgroups, in runc's stats shape. */
#ifndef CAPSULE_OCI_CGROUP_STATS_H
#define CAPSULE_OCI_CGROUP_STATS_H

#include <stdint.h>
#include <jansson.h>

#include "cgroup.h"

/* {cpu, cpuset, memory, pids, blkio, hugetlb, intel_rdt, network_interfaces} for the cgroup
 * path in every hierarchy of l (v1, hybrid or v2); what a hierarchy lacks stays zero, as
 * runc has it. NULL only when out of memory. */
json_t *cg_stats(const struct cg_layout *l, const char *path);

/* The OOM kills counted for the cgroup (memory.oom_control v1, memory.events v2). */
uint64_t cg_oom_kills(const struct cg_layout *l, const char *path);

/* The file whose change signals an OOM kill: v1 memory.oom_control (for cgroup.event_control),
 * v2 memory.events (inotify). *v2 says which. -ENOENT without a memory controller. */
int cg_oom_file(const struct cg_layout *l, const char *path, char *dir, size_t dirsz, bool *v2);

#endif
