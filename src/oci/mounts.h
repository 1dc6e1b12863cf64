/* The container's root file system, built inside its mount namespace. Each returns 0 or
 * -errno with err filled. */
#ifndef CAPSULE_OCI_MOUNTS_H
#define CAPSULE_OCI_MOUNTS_H

#include "ctx.h"

/* config mounts and the default devices, under c->rootfs */
int oci_rootfs_setup(struct oci_ctx *c, cap_err *err);
/* pivot_root (or chroot/move with --no-pivot) */
int oci_rootfs_pivot(struct oci_ctx *c, cap_err *err);
/* read-only root, masked and read-only paths */
int oci_rootfs_finish(struct oci_ctx *c, cap_err *err);

#endif
