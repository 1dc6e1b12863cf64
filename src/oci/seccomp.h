/* linux.seccomp compiled to BPF by libseccomp in the runtime, loaded by the container
 * process just before exec. */
#ifndef CAPSULE_OCI_SECCOMP_H
#define CAPSULE_OCI_SECCOMP_H

#include "ctx.h"

/* Compile c->spec->seccomp into c->seccomp (nothing when the spec has none). */
int oci_seccomp_compile(struct oci_ctx *c, cap_err *err);
int oci_seccomp_load(const struct oci_ctx *c, cap_err *err);

#endif
