/* A minimal virtio-mmio (version 2) driver for test guests: one split virtqueue (queue 0), one
 * request in flight, completion by polling the used ring from ring 3. Devices are found the way
 * Linux finds them: virtio_mmio.device=SIZE@0xBASE:IRQ words on the kernel command line. */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "rt.h"

#define VIO_QSIZE 8

#define VIO_ID_NET 1
#define VIO_ID_BLK 2
#define VIO_ID_RNG 4

#define VIO_F_VERSION_1 (1ULL << 32)

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

struct vio_dev {
	uintptr_t base;
	unsigned irq;
	uint32_t device_id;
	uint64_t device_features;
	struct vio_queue *q;
	uint16_t avail_idx, used_idx;
	uint64_t wait_spins;	/* for vio_wait_used's ring-3 half */
};

/* One buffer of a request: device-writable or device-readable. */
struct vio_buf {
	void *addr;
	uint32_t len;
	int device_writes;
};

/* The nth (from 0) device with this ID on the command line; 0 or -1 when absent. */
int vio_find(uint32_t device_id, unsigned nth, struct vio_dev *d);
/* Reset, negotiate VERSION_1 plus the offered part of want, set up queue 0, DRIVER_OK. Returns 0,
 * or -1 after printing which step the device refused. */
int vio_init(struct vio_dev *d, uint64_t want);
/* Posts the chain, notifies, waits (in ring 3, bounded) for it to be used. Returns the used length,
 * or -1 on timeout. */
long vio_transfer(struct vio_dev *d, const struct vio_buf *bufs, unsigned n);

/* The pieces of vio_init, and raw access, for guests that misbehave on purpose. */
#define VIO_S_NEEDS_RESET 64
int vio_negotiate(struct vio_dev *d, uint64_t want);
int vio_setup_queue(struct vio_dev *d, uint64_t desc, uint64_t driver, uint64_t device);
int vio_driver_ok(struct vio_dev *d);
uint32_t vio_status(struct vio_dev *d);
void vio_reset(struct vio_dev *d);
void vio_notify(struct vio_dev *d);
/* Waits in ring 3 for the used index to move (spins 0: the default bound); 1 if it did. */
int vio_wait_used(struct vio_dev *d, uint64_t spins);
/* vio_transfer in two halves: post the chain and notify; consume one used entry (its length). */
int vio_post(struct vio_dev *d, const struct vio_buf *bufs, unsigned n);
uint32_t vio_take_used(struct vio_dev *d);

uint8_t vio_config8(struct vio_dev *d, unsigned off);
uint32_t vio_config32(struct vio_dev *d, unsigned off);
uint64_t vio_config64(struct vio_dev *d, unsigned off);

#endif
