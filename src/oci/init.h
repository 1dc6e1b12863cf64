/* What the cloned container init (and exec's child) run, in the container: from the
 * handshake to the exec of the program. */
#ifndef CAPSULE_OCI_INIT_H
#define CAPSULE_OCI_INIT_H

#include <stdbool.h>

#include "ctx.h"

/* The init's whole life; fd is its end of the sync socketpair. Never returns. */
void oci_init_run(struct oci_ctx *c, int fd) __attribute__((noreturn));

/* setns() into c->ns_fd (the user namespace first); pid_too: the pid namespace as well. */
int oci_join_namespaces(struct oci_ctx *c, bool pid_too, cap_err *err);

#endif
