/* virtio-mmio v2 driver, polled. See virtio.h. Register offsets are from the virtio 1.x
 * specification, section 4.2.2. */
#include "virtio.h"

#define MAGIC 0x000
#define VERSION 0x004
#define DEVICE_ID 0x008
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
#define STATUS 0x070
#define QUEUE_DESC 0x080
#define QUEUE_DRIVER 0x090
#define QUEUE_DEVICE 0x0a0
#define CONFIG 0x100

#define S_ACKNOWLEDGE 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_FAILED 128

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2

#define MAX_QUEUE_MEMS 12
#define WAIT_SPINS (1ULL << 28)

static struct vio_queue queue_mem[MAX_QUEUE_MEMS];
static unsigned nqueue_mem;

static uint32_t rd(struct vio_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->base + off);
}

static void wr(struct vio_dev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->base + off) = v;
}

static void wr64(struct vio_dev *d, unsigned off, uint64_t v)
{
	wr(d, off, (uint32_t)v);
	wr(d, off + 4, (uint32_t)(v >> 32));
}

/* Parses "SIZE@0xBASE:IRQ" (SIZE like 4K or 0x1000; only BASE and IRQ matter here). */
static int parse_dev(const char *s, uintptr_t *base, unsigned *irq)
{
	uintptr_t b = 0;
	unsigned i = 0;

	while (*s && *s != '@' && *s != ' ')
		s++;
	if (s[0] != '@' || s[1] != '0' || s[2] != 'x')
		return -1;
	for (s += 3; (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'); s++)
		b = b * 16 + (uintptr_t)(*s <= '9' ? *s - '0' : *s - 'a' + 10);
	if (*s++ != ':')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		i = i * 10 + (unsigned)(*s - '0');
	*base = b;
	*irq = i;
	return 0;
}

/* virtio-mmio windows the VMM announces: virtio_mmio.device= words on the command line (as with
 * acpi=off), then LNRO0005 devices in the DSDT, each followed in its _CRS by a Memory32Fixed
 * descriptor (0x86, length 9) and an Extended Interrupt one (0x89, length 6). The DSDT is scanned
 * for those byte patterns rather than interpreted: enough for the tables a VMM writes. */
#define MAX_WINDOWS 16

static unsigned windows(uintptr_t base[MAX_WINDOWS], unsigned irq[MAX_WINDOWS])
{
	static const char key[] = "virtio_mmio.device=";
	const char *s = rt_cmdline();
	const uint8_t *dsdt;
	unsigned n = 0, len, i, j, k;

	while (*s && n < MAX_WINDOWS) {
		while (*s == ' ')
			s++;
		for (i = 0; key[i] && s[i] == key[i]; i++)
			;
		if (!key[i] && parse_dev(s + i, &base[n], &irq[n]) == 0)
			n++;
		while (*s && *s != ' ')
			s++;
	}
	dsdt = rt_acpi_table("DSDT");
	if (!dsdt || memcmp(dsdt, "DSDT", 4))
		return n;
	memcpy(&len, dsdt + 4, 4);
	for (i = 36; i + 9 < len && n < MAX_WINDOWS; i++) {
		uintptr_t b = 0;
		unsigned q = 0;
		uint32_t v;

		if (memcmp(dsdt + i, "LNRO0005", 9))
			continue;
		for (j = i + 9; j + 9 < len && j < i + 96; j++) {
			if (!memcmp(dsdt + j, "LNRO0005", 8))
				break;
			if (!b && dsdt[j] == 0x86 && dsdt[j + 1] == 9 && dsdt[j + 2] == 0) {
				memcpy(&v, dsdt + j + 4, 4);
				b = v;
			} else if (b && dsdt[j] == 0x89 && dsdt[j + 1] == 6 && dsdt[j + 2] == 0) {
				memcpy(&v, dsdt + j + 5, 4);
				q = v;
				break;
			}
		}
		for (k = 0; k < n && base[k] != b; k++)
			;
		if (b && k == n) {
			base[n] = b;
			irq[n++] = q;
		}
	}
	return n;
}

int vio_find(uint32_t device_id, unsigned nth, struct vio_dev *d)
{
	uintptr_t base[MAX_WINDOWS];
	unsigned irq[MAX_WINDOWS], n = windows(base, irq), i;

	for (i = 0; i < n; i++) {
		struct vio_dev t = { 0 };

		t.base = base[i];
		t.irq = irq[i];
		if (rd(&t, MAGIC) == 0x74726976 && rd(&t, VERSION) == 2 && rd(&t, DEVICE_ID) == device_id &&
		    nth-- == 0) {
			t.device_id = device_id;
			*d = t;
			return 0;
		}
	}
	return -1;
}

int vio_negotiate(struct vio_dev *d, uint64_t want)
{
	uint64_t f;
	uint32_t st;

	wr(d, STATUS, 0);
	wr(d, STATUS, S_ACKNOWLEDGE);
	wr(d, STATUS, S_ACKNOWLEDGE | S_DRIVER);
	wr(d, DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(d, DEVICE_FEATURES) << 32;
	wr(d, DEVICE_FEATURES_SEL, 0);
	f |= rd(d, DEVICE_FEATURES);
	d->device_features = f;
	if (!(f & VIO_F_VERSION_1)) {
		rt_printf("virtio: device %u does not offer VERSION_1 (features %#lx)\n", d->device_id, f);
		return -1;
	}
	f &= want | VIO_F_VERSION_1;
	wr(d, DRIVER_FEATURES_SEL, 1);
	wr(d, DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(d, DRIVER_FEATURES_SEL, 0);
	wr(d, DRIVER_FEATURES, (uint32_t)f);
	wr(d, STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	st = rd(d, STATUS);
	if (!(st & S_FEATURES_OK)) {
		rt_printf("virtio: device %u refused features %#lx (status %#x)\n", d->device_id, f, st);
		return -1;
	}
	return 0;
}

int vio_setup_queue(struct vio_dev *d, unsigned qi, uint64_t desc, uint64_t driver, uint64_t device)
{
	wr(d, QUEUE_SEL, qi);
	if (rd(d, QUEUE_READY) != 0 || rd(d, QUEUE_NUM_MAX) < VIO_QSIZE) {
		rt_printf("virtio: device %u queue %u unusable (max %u)\n", d->device_id, qi,
			  rd(d, QUEUE_NUM_MAX));
		return -1;
	}
	d->vq[qi].avail_idx = d->vq[qi].used_idx = 0;
	wr(d, QUEUE_NUM, VIO_QSIZE);
	wr64(d, QUEUE_DESC, desc);
	wr64(d, QUEUE_DRIVER, driver);
	wr64(d, QUEUE_DEVICE, device);
	wr(d, QUEUE_READY, 1);
	return 0;
}

int vio_driver_ok(struct vio_dev *d)
{
	uint32_t st;

	wr(d, STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	st = rd(d, STATUS);
	if (st & (VIO_S_NEEDS_RESET | S_FAILED) || !(st & S_DRIVER_OK)) {
		rt_printf("virtio: device %u status %#x after DRIVER_OK\n", d->device_id, st);
		return -1;
	}
	return 0;
}

int vio_init_queues(struct vio_dev *d, uint64_t want, unsigned nq)
{
	unsigned qi;

	if (nq == 0 || nq > VIO_MAX_QUEUES)
		return -1;
	if (vio_negotiate(d, want) < 0)
		return -1;
	for (qi = 0; qi < nq; qi++) {
		struct vio_queue *q = d->vq[qi].mem;

		if (!q) {
			if (nqueue_mem == MAX_QUEUE_MEMS) {
				rt_puts("virtio: out of queue memory\n");
				return -1;
			}
			q = d->vq[qi].mem = &queue_mem[nqueue_mem++];	/* zero: fresh VMM memory */
		} else {
			/* Re-initialising after a reset: clear what the last life left (a few hundred
			 * bytes, not the whole page-aligned block: ring 0 is slow here). */
			memset(q->desc, 0, sizeof(q->desc));
			memset(&q->avail, 0, sizeof(q->avail));
			memset(&q->used, 0, sizeof(q->used));
		}
		if (vio_setup_queue(d, qi, (uintptr_t)q->desc, (uintptr_t)&q->avail, (uintptr_t)&q->used) < 0)
			return -1;
	}
	d->nq = nq;
	return vio_driver_ok(d);
}

uint32_t vio_status(struct vio_dev *d)
{
	return rd(d, STATUS);
}

void vio_reset(struct vio_dev *d)
{
	wr(d, STATUS, 0);
}

void vio_notify_q(struct vio_dev *d, unsigned qi)
{
	__asm__ volatile("mfence" ::: "memory");
	wr(d, QUEUE_NOTIFY, qi);
}

int vio_add(struct vio_dev *d, unsigned qi, unsigned slot, const struct vio_buf *bufs, unsigned n)
{
	struct vio_vq *vq = &d->vq[qi];
	struct vio_queue *q = vq->mem;
	unsigned i;

	if (qi >= d->nq || n == 0 || slot + n > VIO_QSIZE)
		return -1;
	for (i = 0; i < n; i++) {
		struct vio_desc *e = &q->desc[slot + i];

		e->addr = (uintptr_t)bufs[i].addr;
		e->len = bufs[i].len;
		e->flags = (uint16_t)((bufs[i].device_writes ? DESC_F_WRITE : 0) | (i + 1 < n ? DESC_F_NEXT : 0));
		e->next = (uint16_t)(i + 1 < n ? slot + i + 1 : 0);
	}
	q->avail.ring[vq->avail_idx % VIO_QSIZE] = (uint16_t)slot;
	__asm__ volatile("" ::: "memory");	/* x86 keeps stores in order; the compiler must too */
	q->avail.idx = ++vq->avail_idx;
	return 0;
}

/* Ring 3: spin until the used index of d->wait_q moves past the last one consumed. */
static long wait_fn(long dev)
{
	struct vio_dev *d = (struct vio_dev *)dev;
	struct vio_vq *vq = &d->vq[d->wait_q];
	volatile uint16_t *idx = &vq->mem->used.idx;
	uint64_t spins = d->wait_spins ? d->wait_spins : WAIT_SPINS;

	while (*idx == vq->used_idx && spins--)
		rt_pause();
	return *idx != vq->used_idx;
}

int vio_wait(struct vio_dev *d, unsigned qi, uint64_t spins)
{
	if (qi >= d->nq)
		return 0;
	if (d->vq[qi].mem->used.idx != d->vq[qi].used_idx)
		return 1;
	d->wait_q = qi;
	d->wait_spins = spins;
	return (int)rt_user_call(wait_fn, (long)d);
}

int vio_take(struct vio_dev *d, unsigned qi, uint32_t *head, uint32_t *len)
{
	struct vio_vq *vq = &d->vq[qi];
	struct vio_queue *q = vq->mem;

	if (qi >= d->nq || *(volatile uint16_t *)&q->used.idx == vq->used_idx)
		return 0;
	__asm__ volatile("" ::: "memory");
	if (head)
		*head = q->used.ring[vq->used_idx % VIO_QSIZE].id;
	if (len)
		*len = q->used.ring[vq->used_idx % VIO_QSIZE].len;
	vq->used_idx++;
	wr(d, INTERRUPT_ACK, rd(d, INTERRUPT_STATUS));
	return 1;
}

int vio_post(struct vio_dev *d, const struct vio_buf *bufs, unsigned n)
{
	if (vio_add(d, 0, 0, bufs, n) < 0)
		return -1;
	vio_notify_q(d, 0);
	return 0;
}

uint32_t vio_take_used(struct vio_dev *d)
{
	uint32_t len = 0;

	vio_take(d, 0, NULL, &len);
	return len;
}

long vio_transfer(struct vio_dev *d, const struct vio_buf *bufs, unsigned n)
{
	if (vio_post(d, bufs, n) < 0 || !vio_wait(d, 0, 0))
		return -1;
	return vio_take_used(d);
}

uint8_t vio_config8(struct vio_dev *d, unsigned off)
{
	return *(volatile uint8_t *)(d->base + CONFIG + off);
}

uint32_t vio_config32(struct vio_dev *d, unsigned off)
{
	return rd(d, CONFIG + off);
}

uint64_t vio_config64(struct vio_dev *d, unsigned off)
{
	return rd(d, CONFIG + off) | (uint64_t)rd(d, CONFIG + off + 4) << 32;
}
