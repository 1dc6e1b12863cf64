/* A fake virtio driver over a plain buffer used as guest RAM (guest_mem_init_buffer), shared by
 * the virtio unit tests: it lays out a split queue at fixed addresses and publishes chains. */
#ifndef CAPSULE_TEST_VIRTIO_FAKE_H
#define CAPSULE_TEST_VIRTIO_FAKE_H

#include <linux/virtio_ring.h>
#include <stdint.h>
#include <string.h>

#include "../../src/vmm/memory.h"
#include "../../src/vmm/virtio/queue.h"

#define FAKE_MEM (1u << 20)
#define FAKE_DESC 0x1000u
#define FAKE_AVAIL 0x2000u
#define FAKE_USED 0x3000u
#define FAKE_DATA 0x10000u	/* buffers start here */

struct fake {
	uint8_t *ram;
	struct guest_mem gm;
	uint16_t num;
	uint16_t avail_idx;
};

static inline void fake_init(struct fake *f, uint8_t *ram, uint16_t num)
{
	memset(ram, 0, FAKE_MEM);
	f->ram = ram;
	f->num = num;
	f->avail_idx = 0;
	guest_mem_init_buffer(&f->gm, ram, FAKE_MEM);
}

static inline struct vring_desc *fake_desc(struct fake *f, uint64_t table, unsigned i)
{
	return (struct vring_desc *)(f->ram + table) + i;
}

static inline void fake_set(struct fake *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*fake_desc(f, FAKE_DESC, i) = (struct vring_desc){ addr, len, flags, next };
}

static inline struct vring_avail *fake_avail(struct fake *f)
{
	return (struct vring_avail *)(f->ram + FAKE_AVAIL);
}

static inline struct vring_used *fake_used(struct fake *f)
{
	return (struct vring_used *)(f->ram + FAKE_USED);
}

static inline void fake_publish(struct fake *f, uint16_t head)
{
	struct vring_avail *a = fake_avail(f);
	a->ring[f->avail_idx % f->num] = head;
	f->avail_idx++;
	a->idx = f->avail_idx;
}

/* used_event lives after the avail ring, avail_event after the used ring. */
static inline uint16_t *fake_used_event(struct fake *f)
{
	return &fake_avail(f)->ring[f->num];
}

static inline uint16_t *fake_avail_event(struct fake *f)
{
	return (uint16_t *)&fake_used(f)->ring[f->num];
}

static inline void fake_queue(struct fake *f, struct virtq *q)
{
	virtq_reset(q);
	q->mem = &f->gm;
	q->num = f->num;
	q->desc_gpa = FAKE_DESC;
	q->avail_gpa = FAKE_AVAIL;
	q->used_gpa = FAKE_USED;
}

#endif
