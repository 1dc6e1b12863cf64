/* OCI hooks: each runs with the container state on stdin. */
#ifndef CAPSULE_OCI_HOOKS_H
#define CAPSULE_OCI_HOOKS_H

#include <stdbool.h>

#include "spec.h"

/* Run the hooks of one kind; warn_only: a failure is logged, not returned. */
int oci_hooks_run(const struct oci_hooks *h, enum oci_hook_kind kind, const char *state,
		  bool warn_only, cap_err *err);

#endif
