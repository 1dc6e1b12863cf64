/* A minimal virtio-mmio (version 2) driver for test guests: split virtqueues of 8 entries,
 * completion by polling the used rings from ring 3 (no interrupts). Devices are found the way Linux
 * finds them: virtio_mmio.device=SIZE@0xBASE:IRQ words on the kernel command line, or LNRO0005
 * devices in the ACPI DSDT, in that order (DSDT order is creation order). The caller
 * decides which descriptor slots each request uses, so a queue can hold several buffers. */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "rt.h"

#define VIO_QSIZE 8
#define VIO_MAX_QUEUES 3

#define VIO_ID_NET 1
#define VIO_ID_BLK 2
#define VIO_ID_RNG 4
#define VIO_ID_BALLOON 5
#define VIO_ID_VSOCK 19

#define VIO_F_VERSION_1 (1ULL << 32)
#define VIO_S_NEEDS_RESET 64

struct vio_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vio_queue {
	struct vio_desc desc[VIO_QSIZE];
	struct {
		uint16_t flags, idx, ring[VIO_QSIZE], used_event;
	} avail __attribute__((aligned(2)));
	struct {
		uint16_t flags, idx;
		struct {
			uint32_t id, len;
		} ring[VIO_QSIZE];
		uint16_t avail_event;
	} used __attribute__((aligned(4096)));
} __attribute__((aligned(4096)));

struct vio_vq {
	struct vio_queue *mem;
	uint16_t avail_idx, used_idx;
};

struct vio_dev {
	uintptr_t base;
	unsigned irq;
	uint32_t device_id;
	uint64_t device_features;
	unsigned nq;
	struct vio_vq vq[VIO_MAX_QUEUES];
	unsigned wait_q;	/* for vio_wait's ring-3 half */
	uint64_t wait_spins;
};

/* One buffer of a request: device-writable or device-readable. */
struct vio_buf {
	void *addr;
	uint32_t len;
	int device_writes;
};

/* The nth (from 0) device with this ID; 0 or -1 when absent. */
int vio_find(uint32_t device_id, unsigned nth, struct vio_dev *d);
/* Reset, negotiate VERSION_1 plus the offered part of want, set up queues 0..nq-1 (cleared when
 * re-initialising), DRIVER_OK. Returns 0, or -1 after printing which step the device refused. */
int vio_init_queues(struct vio_dev *d, uint64_t want, unsigned nq);
static inline int vio_init(struct vio_dev *d, uint64_t want)
{
	return vio_init_queues(d, want, 1);
}

/* Queue qi: chain bufs into descriptors slot.. slot+n-1 and make the chain available (no notify). */
int vio_add(struct vio_dev *d, unsigned qi, unsigned slot, const struct vio_buf *bufs, unsigned n);
void vio_notify_q(struct vio_dev *d, unsigned qi);
/* Waits in ring 3 (spins 0: the default bound, seconds) for queue qi's used index to move;
 * 1 if it did. */
int vio_wait(struct vio_dev *d, unsigned qi, uint64_t spins);
/* Consumes one used entry of queue qi if there is one: 1 and its head and length, else 0. */
int vio_take(struct vio_dev *d, unsigned qi, uint32_t *head, uint32_t *len);

/* Queue 0, one request at a time from slot 0: post and notify; consume; both with a wait. */
int vio_post(struct vio_dev *d, const struct vio_buf *bufs, unsigned n);
uint32_t vio_take_used(struct vio_dev *d);
static inline int vio_wait_used(struct vio_dev *d, uint64_t spins)
{
	return vio_wait(d, 0, spins);
}
/* Posts, waits, consumes: the used length, or -1 on timeout. */
long vio_transfer(struct vio_dev *d, const struct vio_buf *bufs, unsigned n);

/* The pieces of vio_init, and raw access, for guests that misbehave on purpose. */
int vio_negotiate(struct vio_dev *d, uint64_t want);
int vio_setup_queue(struct vio_dev *d, unsigned qi, uint64_t desc, uint64_t driver, uint64_t device);
int vio_driver_ok(struct vio_dev *d);
uint32_t vio_status(struct vio_dev *d);
void vio_reset(struct vio_dev *d);
static inline void vio_notify(struct vio_dev *d)
{
	vio_notify_q(d, 0);
}

uint8_t vio_config8(struct vio_dev *d, unsigned off);
uint32_t vio_config32(struct vio_dev *d, unsigned off);
uint64_t vio_config64(struct vio_dev *d, unsigned off);

#endif
