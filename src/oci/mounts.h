/* The container's root file system, built inside its mount namespace (a new one, or one
 * joined by path) or, without one, on a private bind of the rootfs in the runtime's. Each
 * returns 0 or -errno with err filled. */
#ifndef CAPSULE_OCI_MOUNTS_H
#define CAPSULE_OCI_MOUNTS_H

#include <stdint.h>

#include "ctx.h"

/* In the runtime, for a container that shares its mount namespace: a private, recursive bind
 * of the rootfs, still detached (*tree_fd; nothing is in the host's namespace yet), so that
 * what the init mounts there stays under it and never propagates; *mnt_id names it for
 * oci_rootfs_host_release. */
int oci_rootfs_host_bind(const char *rootfs, int *tree_fd, uint64_t *mnt_id, cap_err *err);
/* Put it on the rootfs. Called once its id is in state.json: a runtime killed before leaves no
 * mount, one killed after leaves one that delete finds. */
int oci_rootfs_host_attach(const char *rootfs, int tree_fd, cap_err *err);
/* Detach that bind and every mount under it, if it is still the top mount on rootfs. */
void oci_rootfs_host_release(const char *rootfs, uint64_t mnt_id);

/* config mounts and the default devices, under c->rootfs */
int oci_rootfs_setup(struct oci_ctx *c, cap_err *err);
/* pivot_root (or chroot/move with --no-pivot) */
int oci_rootfs_pivot(struct oci_ctx *c, cap_err *err);
/* read-only root, masked and read-only paths */
int oci_rootfs_finish(struct oci_ctx *c, cap_err *err);

#endif
