/* linux.sysctl: which keys a container may set. Only sysctls that belong to a namespace the
 * container has of its own are accepted (runc's rule); anything else would be written to the
 * host's /proc/sys. */
#ifndef CAPSULE_OCI_SYSCTL_H
#define CAPSULE_OCI_SYSCTL_H

#include "spec.h"

/* The namespace (CLONE_NEW*) a sysctl key belongs to, 0 if it is not namespaced. Keys may
 * use '.' or '/' as separator. */
int oci_sysctl_ns(const char *key);

/* Every key of s->sysctl belongs to a namespace the container creates or joins (a joined one
 * must not be the runtime's own). */
int oci_sysctl_check(const struct oci_spec *s, cap_err *err);

#endif
