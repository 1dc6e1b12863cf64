/* What the commands of oci.h share besides the state (lifecycle.c). */
#ifndef CAPSULE_OCI_LIFECYCLE_H
#define CAPSULE_OCI_LIFECYCLE_H

#include <signal.h>
#include <sys/types.h>

#include "oci.h"
#include "state.h"

/* Write pid to path (NULL: nothing) atomically, via a temporary file and rename. */
int oci_write_pid_file(const char *path, pid_t pid, cap_err *err);
/* The signals run and exec forward to the container's process (blocked while they wait). */
void oci_forward_mask(sigset_t *mask);
/* The state root of rt. */
const char *oci_root(const struct oci_runtime *rt);
/* An exit code from a wait status: the exit status, or 128+N for signal N. */
int oci_exit_code(int status);

#endif
