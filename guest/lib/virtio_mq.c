/* See virtio_mq.h. Register offsets: virtio 1.x, section 4.2.2. */
#include "virtio_mq.h"

#include "io.h"

#define STATUS 0x070
#define DEVICE_FEATURES 0x010
#define DEVICE_FEATURES_SEL 0x014
#define DRIVER_FEATURES 0x020
#define DRIVER_FEATURES_SEL 0x024
#define QUEUE_SEL 0x030
#define QUEUE_NUM_MAX 0x034
#define QUEUE_NUM 0x038
#define QUEUE_READY 0x044
#define QUEUE_NOTIFY 0x050
#define INTERRUPT_STATUS 0x060
#define INTERRUPT_ACK 0x064
#define QUEUE_DESC 0x080
#define QUEUE_DRIVER 0x090
#define QUEUE_DEVICE 0x0a0
#define CONFIG 0x100

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8

static struct vmq_queue pool[8];
static unsigned pool_used;

static uint32_t rd(struct vmq_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->base + off);
}

static void wr(struct vmq_dev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->base + off) = v;
}

static void wr64(struct vmq_dev *d, unsigned off, uint64_t v)
{
	wr(d, off, (uint32_t)v);
	wr(d, off + 4, (uint32_t)(v >> 32));
}

int vmq_init(struct vmq_dev *d, const struct vio_dev *found, uint64_t want, unsigned nq)
{
	uint64_t f;

	d->base = found->base;
	d->nq = nq;
	if (nq > VMQ_MAX_QUEUES || pool_used + nq > sizeof(pool) / sizeof(pool[0])) {
		rt_puts("vmq: too many queues\n");
		return -1;
	}
	wr(d, STATUS, 0);
	wr(d, STATUS, S_ACK);
	wr(d, STATUS, S_ACK | S_DRIVER);
	wr(d, DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(d, DEVICE_FEATURES) << 32;
	wr(d, DEVICE_FEATURES_SEL, 0);
	f |= rd(d, DEVICE_FEATURES);
	f &= want | VIO_F_VERSION_1;
	d->features = f;
	wr(d, DRIVER_FEATURES_SEL, 1);
	wr(d, DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(d, DRIVER_FEATURES_SEL, 0);
	wr(d, DRIVER_FEATURES, (uint32_t)f);
	wr(d, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(rd(d, STATUS) & S_FEATURES_OK)) {
		rt_printf("vmq: features %#lx refused\n", f);
		return -1;
	}
	for (unsigned i = 0; i < nq; i++) {
		struct vmq_queue *q = &pool[pool_used++];
		d->q[i] = q;
		wr(d, QUEUE_SEL, i);
		if (rd(d, QUEUE_NUM_MAX) < VMQ_SIZE) {
			rt_printf("vmq: queue %u unusable\n", i);
			return -1;
		}
		wr(d, QUEUE_NUM, VMQ_SIZE);
		wr64(d, QUEUE_DESC, (uintptr_t)q->desc);
		wr64(d, QUEUE_DRIVER, (uintptr_t)&q->avail);
		wr64(d, QUEUE_DEVICE, (uintptr_t)&q->used);
		wr(d, QUEUE_READY, 1);
	}
	wr(d, STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	uint32_t st = rd(d, STATUS);
	if (!(st & S_DRIVER_OK) || (st & 0xc0)) {
		rt_printf("vmq: status %#x after DRIVER_OK\n", st);
		return -1;
	}
	return 0;
}

void vmq_add_head(struct vmq_dev *d, unsigned qi, unsigned head)
{
	struct vmq_queue *q = d->q[qi];

	q->avail.ring[q->avail_idx % VMQ_SIZE] = (uint16_t)head;
	__asm__ volatile("" ::: "memory");
	q->avail.idx = ++q->avail_idx;
	__asm__ volatile("mfence" ::: "memory");
}

void vmq_add(struct vmq_dev *d, unsigned qi, unsigned slot, const struct vio_buf *bufs, unsigned n)
{
	struct vmq_queue *q = d->q[qi];

	for (unsigned i = 0; i < n; i++) {
		unsigned s = (slot + i) % VMQ_SIZE;
		q->desc[s].addr = (uintptr_t)bufs[i].addr;
		q->desc[s].len = bufs[i].len;
		q->desc[s].flags = (uint16_t)((bufs[i].device_writes ? 2 : 0) | (i + 1 < n ? 1 : 0));
		q->desc[s].next = (uint16_t)((s + 1) % VMQ_SIZE);
	}
	vmq_add_head(d, qi, slot % VMQ_SIZE);
}

void vmq_kick(struct vmq_dev *d, unsigned q)
{
	wr(d, QUEUE_NOTIFY, q);
}

int vmq_take(struct vmq_dev *d, unsigned qi, uint32_t *id, uint32_t *len)
{
	struct vmq_queue *q = d->q[qi];

	if (*(volatile uint16_t *)&q->used.idx == q->used_idx)
		return 0;
	__asm__ volatile("" ::: "memory");
	*id = q->used.ring[q->used_idx % VMQ_SIZE].id;
	*len = q->used.ring[q->used_idx % VMQ_SIZE].len;
	q->used_idx++;
	return 1;
}

struct wait_arg {
	volatile uint16_t *idx;
	uint16_t seen;
	uint64_t spins;
};

static long wait_ring3(long a)
{
	struct wait_arg *w = (struct wait_arg *)a;
	uint64_t n = w->spins;

	while (*w->idx == w->seen && n--)
		rt_pause();
	return *w->idx != w->seen;
}

int vmq_wait(struct vmq_dev *d, unsigned qi, uint32_t *id, uint32_t *len, uint64_t spins)
{
	struct vmq_queue *q = d->q[qi];
	static struct wait_arg w;

	if (vmq_take(d, qi, id, len))
		return 1;
	w.idx = &q->used.idx;
	w.seen = q->used_idx;
	w.spins = spins;
	rt_user_call(wait_ring3, (long)&w);
	wr(d, INTERRUPT_ACK, rd(d, INTERRUPT_STATUS));
	return vmq_take(d, qi, id, len);
}

uint32_t vmq_status(struct vmq_dev *d)
{
	return rd(d, STATUS);
}

uint32_t vmq_config32(struct vmq_dev *d, unsigned off)
{
	return rd(d, CONFIG + off);
}

int vmq_serial_getc(uint64_t spins)
{
	while (spins--) {
		if (inb(0x3fd) & 1)
			return inb(0x3f8);
	}
	return -1;
}
