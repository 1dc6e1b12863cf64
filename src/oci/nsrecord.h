/* The namespaces a container was made with, kept in state.json ("namespaces") for exec.
 *
 * exec must join the namespaces the container was created with, not whatever its init holds
 * later: a process may make new ones for itself (`unshare -U` inside the container), and
 * joining such a user namespace first leaves exec without the right to join the others
 * (EPERM), so any container could disable exec against itself. Only the kinds config.json
 * asked for (created or given by path) are recorded; each with the identity (inode, device)
 * it had at create, which exec checks on the file it opened. */
#ifndef CAPSULE_OCI_NSRECORD_H
#define CAPSULE_OCI_NSRECORD_H

#include <sys/types.h>
#include <jansson.h>

#include "../lib/error.h"
#include "ctx.h"

/* create, once the init is cloned: set state["namespaces"] from c->spec, the init's
 * /proc/PID/ns (kinds made at clone) and c->ns_fd (kinds given by path). The cgroup and
 * time namespaces, which the init makes itself after the clone, are recorded without an
 * identity: exec takes the init's. */
int oci_ns_record(const struct oci_ctx *c, pid_t init, json_t *state, cap_err *err);

/* exec: open the recorded namespaces into c->ns_fd/ns_flag (the user namespace first). A
 * namespace with a recorded identity is taken from the init, or, when the init left it,
 * from another process of the container's cgroup (c->cg, c->cgpath) still in it; none left:
 * an error naming it. Those equal to ours are skipped (a user namespace cannot be joined
 * twice). The caller pins the init (pidfd) for the ones without an identity. */
int oci_ns_open_recorded(struct oci_ctx *c, json_t *rec, pid_t init, cap_err *err);

#endif
