/* The devices a snapshot's guest had, as the snapshot's "config" section: disks by path (with
 * read-only and ID), TAP interfaces by name and MAC, vsock CID and socket path, rng, balloon.
 * A restore builds the same devices from it, in the same order, so every device gets the MMIO
 * window and GSI it had; it reopens disks by path and TAPs by name. Host-side settings
 * (console, boot timer) are not in it: they belong to the restoring process. */
#ifndef CAPSULE_VMM_SNAPSHOT_CONFIG_H
#define CAPSULE_VMM_SNAPSHOT_CONFIG_H

#include "../lib/error.h"
#include "config.h"
#include "vmstate.h"

#define SNAPSHOT_CONFIG_VERSION 1

/* The fields of c's devices into the open section. */
int snapshot_config_encode(const struct vm_config *c, struct vmstate_out *out);
/* From the open section into c's device fields (which must be empty: a vm_config_init'ed c,
 * or one whose devices were cleared); every count and string is checked. On failure err names
 * the field and c's device fields are freed again. */
int snapshot_config_decode(const struct vmstate_in *in, struct vm_config *c, cap_err *err);

#endif
