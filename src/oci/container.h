/* Making the container's processes: the init (create, run) and exec's process. */
#ifndef CAPSULE_OCI_CONTAINER_H
#define CAPSULE_OCI_CONTAINER_H

#include <sys/types.h>

#include "ctx.h"
#include "state.h"

/* Clone the container init. Returns its pid, or -errno with err filled (the child is
 * reaped; the cgroups it made, mask c->cg_made, are the caller's to remove). On success
 * the init is blocked on exec.fifo (fifo_fd >= 0) or already exec'ing the process (run). */
pid_t oci_container_spawn(struct oci_ctx *c, struct oci_state *st, cap_err *err);

/* Fork a process that joins the namespaces of pid `target` (which must still have the
 * recorded starttime, 0 = unchecked) and runs c->proc. */
pid_t oci_exec_spawn(struct oci_ctx *c, pid_t target, unsigned long long starttime, cap_err *err);

#endif
