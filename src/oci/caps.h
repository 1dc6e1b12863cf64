/* Capabilities (libcap): the bounding set is reduced while still root, the other sets
 * after the uid switch. */
#ifndef CAPSULE_OCI_CAPS_H
#define CAPSULE_OCI_CAPS_H

#include "spec.h"

int oci_caps_drop_bounding(const struct oci_process *p, cap_err *err);
int oci_caps_apply(const struct oci_process *p, cap_err *err);

#endif
