/* The container process's own settings, in the order the kernel requires. */
#ifndef CAPSULE_OCI_PROCESS_H
#define CAPSULE_OCI_PROCESS_H

#include "ctx.h"

int oci_process_prepare(struct oci_ctx *c, cap_err *err);   /* rlimits, umask, cwd, program path */
int oci_process_finish(struct oci_ctx *c, cap_err *err);    /* user, caps, nnp, seccomp */
void oci_process_exec(struct oci_ctx *c) __attribute__((noreturn));

#endif
