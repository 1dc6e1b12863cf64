/* virtio-blk request parsing, exposed for unit tests and the fuzzer. */
#ifndef CAPSULE_VMM_VIRTIO_BLK_H
#define CAPSULE_VMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "queue.h"

#define BLK_SECTOR 512
#define BLK_SEG_MAX 254		/* data segments per request we advertise (seg_max) */
#define BLK_ID_BYTES 20		/* VIRTIO_BLK_ID_BYTES */
#define BLK_MAX_DISCARD_SECTORS (1u << 22)	/* 2 GiB per discard */

/* A validated request. status is NULL when the chain had no status byte at all: that chain
 * cannot be completed and puts the device into NEEDS_RESET. */
struct blk_request {
	uint32_t type;
	uint64_t sector;
	uint8_t *status;
	uint8_t early_status;		/* VIRTIO_BLK_S_OK when the request is to be run, else its answer */
	uint64_t data_len;
	unsigned ndata;
	struct iovec data[BLK_SEG_MAX];
	/* discard */
	uint64_t discard_off, discard_len;
};

/* Parse and validate c against a disk of capacity sectors. Returns 0 (look at early_status),
 * or -EINVAL for a chain that breaks the virtio-blk layout (the device then needs a reset). */
int blk_parse(const struct virtq_chain *c, uint64_t capacity, bool readonly, struct blk_request *r);

/* For tests: create with an explicit engine (enum blk_mode), ask which one runs, and wait for
 * then process completions on the calling thread instead of the I/O thread. */
struct virtio_mmio;
struct vm_disk_config;
struct cap_err;
struct virtio_mmio *virtio_blk_create_mode(const struct guest_mem *mem, const struct vm_disk_config *disk,
					   int mode, struct cap_err *err);
bool virtio_blk_uses_uring(struct virtio_mmio *t);
int virtio_blk_wait(struct virtio_mmio *t, int timeout_ms);
unsigned virtio_blk_inflight(struct virtio_mmio *t);

#endif
