/* The virtio-mmio transport, version 2 (virtio 1.2, 4.2.2): the register file a driver sees at
 * a device's 4 KiB window, the status state machine, and the interrupt and notification
 * plumbing shared by every device.
 *
 * Locking: one mutex per device (t->lock) serialises the register file (vCPU threads) with
 * queue processing (the I/O thread). Device callbacks run with it held. */
#ifndef CAPSULE_VMM_VIRTIO_MMIO_H
#define CAPSULE_VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../lib/evloop.h"
#include "../memory.h"
#include "../vmstate.h"
#include "queue.h"

#define VIRTIO_MMIO_WINDOW 0x1000
#define VIRTIO_MMIO_MAX_QUEUES 8
#define VIRTIO_MMIO_CONFIG_MAX 256
#define VIRTIO_MMIO_VENDOR 0x50534143	/* "CAPS" */

struct virtio_mmio;

struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	uint64_t features;		/* device-specific feature bits offered */
	unsigned nqueues;
	/* A queue was kicked (I/O thread, lock held, device is DRIVER_OK and the queue ready). */
	void (*notify)(struct virtio_mmio *t, unsigned q);
	/* The driver reset the device: drop in-flight work (lock held). */
	void (*reset)(struct virtio_mmio *t);
	/* DRIVER_OK was set (lock held). */
	void (*activate)(struct virtio_mmio *t);
	/* The driver wrote config space at off (already bounds-checked; lock held). */
	void (*config_write)(struct virtio_mmio *t, uint32_t off, const uint8_t *data, uint32_t len);
	/* Watch the device's own fds (backend completions, TAP, sockets) on the I/O loop. */
	int (*attach)(struct virtio_mmio *t, struct evloop *io);
	/* The VM is pausing (vCPUs parked, I/O thread quiesced; lock not held): finish whatever would
	 * still change guest memory on its own. Optional. */
	void (*pause)(struct virtio_mmio *t);
	/* Snapshot: the device's own fields into / back from the transport's open section (lock
	 * held; the VM is paused). restore runs once the transport's registers and queues are back;
	 * on failure the transport resets the device. A device without them cannot be
	 * snapshotted. */
	int (*save)(struct virtio_mmio *t, struct vmstate_out *out);
	int (*restore)(struct virtio_mmio *t, const struct vmstate_in *in);
	/* Free the device (after the I/O thread stopped); must call virtio_mmio_destroy(t). */
	void (*destroy)(struct virtio_mmio *t);
};

struct virtio_kick {
	struct virtio_mmio *t;
	unsigned q;
	int fd;				/* ioeventfd, -1 when not wired */
};

struct virtio_mmio {
	const struct virtio_dev_ops *ops;
	void *dev;			/* the device's own state */
	const struct guest_mem *mem;
	pthread_mutex_t lock;
	uint64_t host_features, driver_features;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint32_t status;
	atomic_uint isr;		/* InterruptStatus: bit 0 used buffer, bit 1 config change */
	uint32_t config_gen;
	uint8_t config[VIRTIO_MMIO_CONFIG_MAX];
	uint32_t config_len;
	unsigned nqueues;
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
	struct virtio_kick kick[VIRTIO_MMIO_MAX_QUEUES];
	int irqfd;			/* eventfd bound to the device's GSI, -1 when not wired */
	atomic_ullong interrupts;	/* interrupts raised (tests, stats) */
};

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
		      const struct guest_mem *mem);
void virtio_mmio_destroy(struct virtio_mmio *t);

/* Snapshot of the transport, queues included, plus the device's own ops->save fields
 * (mmio_state.c); -EOPNOTSUPP for a device without them. Restore checks every field first. */
int virtio_mmio_save(struct virtio_mmio *t, struct vmstate_out *out);
int virtio_mmio_restore(struct virtio_mmio *t, const struct vmstate_in *in);
/* After a restore or a pause: have the I/O thread look at every ready queue once, for buffers
 * the driver published while nothing watched the kicks. */
void virtio_mmio_kick_ready_queues(struct virtio_mmio *t);

/* Reset as a driver's status write of 0 does (takes the lock). */
void virtio_mmio_reset(struct virtio_mmio *t);

/* bus_access_fn for the device's window. */
void virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

/* A queue notification arrived (ioeventfd or a trapped QueueNotify write). */
void virtio_mmio_kick(struct virtio_mmio *t, unsigned q);
/* evloop_fn for a struct virtio_kick's ioeventfd. */
void virtio_mmio_kick_event(void *opaque, uint32_t events);

/* For devices (lock held): pop a chain, turning a malformed one into NEEDS_RESET. */
int virtio_mmio_pop(struct virtio_mmio *t, unsigned q, struct virtq_chain *c);
/* Return a chain and interrupt the driver if it asked for it. */
void virtio_mmio_push(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t written);
/* Interrupt for used buffers on q if the driver wants one (after several virtq_push). */
void virtio_mmio_signal(struct virtio_mmio *t, unsigned q);
/* Set DEVICE_NEEDS_RESET and tell the driver with a config-change interrupt. */
void virtio_mmio_set_needs_reset(struct virtio_mmio *t);
/* Device config changed: bump the generation and interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *t);
/* Is the device live: DRIVER_OK set, NEEDS_RESET and FAILED clear. */
bool virtio_mmio_live(const struct virtio_mmio *t);

#endif
