/* virtio-net TX validation, exposed for unit tests and the fuzzer. */
#ifndef CAPSULE_VMM_VIRTIO_NET_H
#define CAPSULE_VMM_VIRTIO_NET_H

#include "queue.h"

#define NET_HDR_LEN 12		/* struct virtio_net_hdr_v1 (VERSION_1 always has num_buffers) */
#define NET_MAX_FRAME 65562	/* a 64 KiB GSO frame plus Ethernet and VLAN headers */

/* The frame length of a TX chain, or -EINVAL when it cannot be a frame. */
int net_tx_check(const struct virtq_chain *c);

struct virtio_mmio;
/* Test hook: read the TAP as if epoll had said it is readable. */
void virtio_net_poll(struct virtio_mmio *t);

#endif
