/* virtio-vsock, the device: TX packet validation (exposed for unit tests and the fuzzer) and test
 * hooks. The host side and its limits are in vsock_muxer.h. */
#ifndef CAPSULE_VMM_VIRTIO_VSOCK_H
#define CAPSULE_VMM_VIRTIO_VSOCK_H

#include <linux/virtio_vsock.h>
#include <stdint.h>

#include "queue.h"
#include "vsock_muxer.h"

/* Copy out and check a TX packet's header against the guest's CID. Returns the payload length
 * (payload follows the header in the chain's device-readable buffers), or -EINVAL for a packet
 * to drop: short, inconsistent length, or addressed from or to the wrong CID. */
int vsock_tx_parse(const struct virtq_chain *c, uint64_t guest_cid, struct virtio_vsock_hdr *h);

struct virtio_mmio;
/* Test hook: treat every connection socket as readable and writable, as if epoll said so. */
void virtio_vsock_poll(struct virtio_mmio *t);
/* Test hook: accept pending host connections on the listening socket. */
void virtio_vsock_accept(struct virtio_mmio *t);
unsigned virtio_vsock_nconns(struct virtio_mmio *t);

#endif
