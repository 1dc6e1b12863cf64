/* TAP devices for virtio-net: attach to an existing interface by name with 12-byte virtio-net
 * headers (IFF_VNET_HDR), so offloaded frames pass through unchanged in both directions. */
#ifndef CAPSULE_VMM_BACKENDS_TAP_H
#define CAPSULE_VMM_BACKENDS_TAP_H

#include "../../lib/error.h"

/* Open /dev/net/tun, attach to (or create) TAP `name`, non-blocking. Returns the fd or -errno. */
int tap_open(const char *name, int vnet_hdr_len, cap_err *err);
/* TUNSETOFFLOAD: which offloaded frames (TUN_F_*) the kernel may hand us. */
int tap_set_offload(int fd, unsigned flags);

#endif
