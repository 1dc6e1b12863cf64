/* A multi-queue, non-blocking companion to virtio.h for test guests whose devices need more than
 * one queue in flight at once (vsock: RX and TX; balloon: inflate). Devices are still found with
 * vio_find(); queues are polled, waits run in ring 3 and are bounded. */
#ifndef GUEST_VIRTIO_MQ_H
#define GUEST_VIRTIO_MQ_H

#include "virtio.h"

#define VMQ_SIZE 16
#define VMQ_MAX_QUEUES 3

struct vmq_queue {
	struct vio_desc desc[VMQ_SIZE];
	struct {
		uint16_t flags, idx, ring[VMQ_SIZE], used_event;
	} avail __attribute__((aligned(2)));
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[VMQ_SIZE];
		uint16_t avail_event;
	} used __attribute__((aligned(4096)));
	uint16_t avail_idx, used_idx;
} __attribute__((aligned(4096)));

struct vmq_dev {
	uintptr_t base;
	unsigned nq;
	uint64_t features;
	struct vmq_queue *q[VMQ_MAX_QUEUES];
};

/* Reset, negotiate VERSION_1 plus the offered part of want, set up queues 0..nq-1, DRIVER_OK.
 * 0, or -1 after printing why. */
int vmq_init(struct vmq_dev *d, const struct vio_dev *found, uint64_t want, unsigned nq);
/* Publish one chain made of bufs[] using descriptors slot..slot+n-1 (the caller owns slots). */
void vmq_add(struct vmq_dev *d, unsigned q, unsigned slot, const struct vio_buf *bufs, unsigned n);
/* Publish a raw chain head (for hand-made, e.g. malformed, descriptor tables). */
void vmq_add_head(struct vmq_dev *d, unsigned q, unsigned head);
void vmq_kick(struct vmq_dev *d, unsigned q);
/* Take the next used element of q: 1 with its id and len filled in, 0 if none yet. */
int vmq_take(struct vmq_dev *d, unsigned q, uint32_t *id, uint32_t *len);
/* Like vmq_take, but waits (ring 3, bounded by spins) for one. */
int vmq_wait(struct vmq_dev *d, unsigned q, uint32_t *id, uint32_t *len, uint64_t spins);
uint32_t vmq_status(struct vmq_dev *d);
uint32_t vmq_config32(struct vmq_dev *d, unsigned off);

/* COM1 input (the host's stdin with --console stdio): waits for one byte; -1 after spins polls. */
int vmq_serial_getc(uint64_t spins);

#endif
