/* Making the container's processes: the init (create, run) and exec's process. */
#ifndef CAPSULE_OCI_CONTAINER_H
#define CAPSULE_OCI_CONTAINER_H

#include <sys/types.h>
#include <jansson.h>

#include "ctx.h"
#include "state.h"

/* Clone the container init. Returns its pid, or -errno with err filled (the child is
 * reaped; the cgroups it made, mask c->cg_made, are the caller's to remove). On success
 * the init is blocked on exec.fifo (fifo_fd >= 0) or already exec'ing the process (run). */
pid_t oci_container_spawn(struct oci_ctx *c, struct oci_state *st, cap_err *err);

/* Fork a process that joins the namespaces of the container whose init is `target` (which
 * must still have the recorded starttime, 0 = unchecked) and runs c->proc. ns_rec: the
 * namespaces recorded at create (state.json "namespaces", nsrecord.h); NULL for a state
 * without them: then every namespace of the init that differs from ours. */
pid_t oci_exec_spawn(struct oci_ctx *c, pid_t target, unsigned long long starttime, json_t *ns_rec,
		     cap_err *err);

#endif
