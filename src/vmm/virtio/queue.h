/* Split virtqueues (virtio 1.2, 2.7): the device side of one queue.
 *
 * The guest owns the rings and may change them at any time, so every descriptor is copied
 * once into host memory before it is looked at, every buffer goes through guest_mem_ptr(),
 * and every chain is bounded. A malformed chain makes virtq_pop() fail; the transport then
 * sets DEVICE_NEEDS_RESET and the queue stays dead until the driver resets the device. */
#ifndef CAPSULE_VMM_VIRTIO_QUEUE_H
#define CAPSULE_VMM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../../lib/log.h"
#include "../memory.h"

#define VIRTQ_MAX_SIZE 256	/* QueueNumMax we offer; also bounds a direct chain */
#define VIRTQ_MAX_SEGS 1024	/* bound on the buffers of one chain, indirect tables included */

struct virtq {
	const struct guest_mem *mem;
	uint16_t num;			/* queue size the driver chose */
	bool ready;
	bool broken;			/* a malformed chain was seen: no more processing */
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* host views of the rings, set by virtq_enable() */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;		/* next avail ring slot to consume */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;	/* used_idx at the last interrupt (EVENT_IDX) */
	bool signalled_valid;
};

/* One popped chain: out[] are device-readable buffers, in[] device-writable ones, in
 * chain order. The iovecs point into guest RAM. */
struct virtq_chain {
	uint16_t head;
	unsigned nout, nin;
	uint64_t out_len, in_len;
	struct iovec out[VIRTQ_MAX_SEGS];
	struct iovec in[VIRTQ_MAX_SEGS];
};

/* Back to the reset state (keeps mem). */
void virtq_reset(struct virtq *q);
/* Check the ring addresses (alignment, inside RAM) and map them; -EINVAL/-EFAULT if bad. */
int virtq_enable(struct virtq *q);
/* Pop the next available chain. Returns 1 with *c filled, 0 when the ring is empty,
 * or -errno for a malformed chain or ring (q->broken is then set). */
int virtq_pop(struct virtq *q, struct virtq_chain *c);
/* Give back the last n popped chains (not pushed) so the next pops return them again. */
void virtq_unpop(struct virtq *q, uint16_t n);
/* Return a chain to the driver with `written` bytes written into its in[] buffers. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);
/* After one or more pushes: does the driver want an interrupt? Updates the EVENT_IDX state. */
bool virtq_should_notify(struct virtq *q);
/* True when the driver has published chains not popped yet. */
bool virtq_has_work(struct virtq *q);

/* Warnings a guest can trigger at will (a bad chain after every reset, a flood of packets): the
 * first few reach the log as warnings, the rest only at debug level. */
bool virtio_guest_warn_budget(void);
#define virtio_guest_warn(...)                                  \
	do {                                                    \
		if (virtio_guest_warn_budget())                 \
			cap_warn(__VA_ARGS__);                  \
		else                                            \
			cap_debug(__VA_ARGS__);                 \
	} while (0)

/* Copy helpers over a chain's iovecs; return bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf, size_t len);
/* dst = the bytes [skip, skip+len) of src[] (len may run past the end: then up to the end).
 * Returns the segment count, or -1 if it needs more than max segments. */
int iov_slice(const struct iovec *src, unsigned n, uint64_t skip, uint64_t len, struct iovec *dst, unsigned max);
/* Ring sizes in bytes for a queue of num entries (with the EVENT_IDX trailers). */
uint64_t virtq_desc_size(uint16_t num);
uint64_t virtq_avail_size(uint16_t num);
uint64_t virtq_used_size(uint16_t num);

#endif
