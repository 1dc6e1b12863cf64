/* virtio-mmio v2 driver, polled, one request at a time. See virtio.h. Register offsets are from
 * the virtio 1.x specification, section 4.2.2. */
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
#define S_NEEDS_RESET 64
#define S_FAILED 128

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2

#define MAX_DEVICES 8
#define WAIT_SPINS (1ULL << 28)

static struct vio_queue queues[MAX_DEVICES];
static unsigned nqueues;

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

int vio_find(uint32_t device_id, unsigned nth, struct vio_dev *d)
{
	static const char key[] = "virtio_mmio.device=";
	const char *s = rt_cmdline();

	while (*s) {
		size_t i;

		while (*s == ' ')
			s++;
		for (i = 0; key[i] && s[i] == key[i]; i++)
			;
		if (!key[i]) {
			struct vio_dev t = { 0 };

			if (parse_dev(s + i, &t.base, &t.irq) == 0 && rd(&t, MAGIC) == 0x74726976 &&
			    rd(&t, VERSION) == 2 && rd(&t, DEVICE_ID) == device_id && nth-- == 0) {
				t.device_id = device_id;
				*d = t;
				return 0;
			}
		}
		while (*s && *s != ' ')
			s++;
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

int vio_setup_queue(struct vio_dev *d, uint64_t desc, uint64_t driver, uint64_t device)
{
	wr(d, QUEUE_SEL, 0);
	if (rd(d, QUEUE_READY) != 0 || rd(d, QUEUE_NUM_MAX) < VIO_QSIZE) {
		rt_printf("virtio: device %u queue 0 unusable (max %u)\n", d->device_id, rd(d, QUEUE_NUM_MAX));
		return -1;
	}
	d->avail_idx = d->used_idx = 0;
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
	if (st & (S_NEEDS_RESET | S_FAILED) || !(st & S_DRIVER_OK)) {
		rt_printf("virtio: device %u status %#x after DRIVER_OK\n", d->device_id, st);
		return -1;
	}
	return 0;
}

int vio_init(struct vio_dev *d, uint64_t want)
{
	struct vio_queue *q = d->q;

	if (!q) {
		if (nqueues == MAX_DEVICES) {
			rt_puts("virtio: out of queues\n");
			return -1;
		}
		q = d->q = &queues[nqueues++];	/* zero: the VMM's memory starts that way */
	} else {
		/* Re-initialising after a reset: clear what the last life left (a few hundred bytes). */
		memset(q->desc, 0, sizeof(q->desc));
		memset(&q->avail, 0, sizeof(q->avail));
		memset(&q->used, 0, sizeof(q->used));
	}
	if (vio_negotiate(d, want) < 0 ||
	    vio_setup_queue(d, (uintptr_t)q->desc, (uintptr_t)&q->avail, (uintptr_t)&q->used) < 0)
		return -1;
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

void vio_notify(struct vio_dev *d)
{
	__asm__ volatile("mfence" ::: "memory");
	wr(d, QUEUE_NOTIFY, 0);
}

/* Ring 3: spin until the used index moves past the last one seen. */
static long wait_used(long dev)
{
	struct vio_dev *d = (struct vio_dev *)dev;
	volatile uint16_t *idx = &d->q->used.idx;
	uint64_t spins = d->wait_spins ? d->wait_spins : WAIT_SPINS;

	while (*idx == d->used_idx && spins--)
		rt_pause();
	return *idx != d->used_idx;
}

int vio_wait_used(struct vio_dev *d, uint64_t spins)
{
	d->wait_spins = spins;
	return (int)rt_user_call(wait_used, (long)d);
}

int vio_post(struct vio_dev *d, const struct vio_buf *bufs, unsigned n)
{
	struct vio_queue *q = d->q;
	unsigned i;

	if (n == 0 || n > VIO_QSIZE)
		return -1;
	for (i = 0; i < n; i++) {
		q->desc[i].addr = (uintptr_t)bufs[i].addr;
		q->desc[i].len = bufs[i].len;
		q->desc[i].flags = (uint16_t)((bufs[i].device_writes ? DESC_F_WRITE : 0) |
					      (i + 1 < n ? DESC_F_NEXT : 0));
		q->desc[i].next = (uint16_t)(i + 1 < n ? i + 1 : 0);
	}
	q->avail.ring[d->avail_idx % VIO_QSIZE] = 0;
	__asm__ volatile("" ::: "memory");	/* x86 keeps stores in order; the compiler must too */
	q->avail.idx = ++d->avail_idx;
	vio_notify(d);
	return 0;
}

uint32_t vio_take_used(struct vio_dev *d)
{
	uint32_t len;

	__asm__ volatile("" ::: "memory");
	len = d->q->used.ring[d->used_idx % VIO_QSIZE].len;
	d->used_idx++;
	wr(d, INTERRUPT_ACK, rd(d, INTERRUPT_STATUS));
	return len;
}

long vio_transfer(struct vio_dev *d, const struct vio_buf *bufs, unsigned n)
{
	if (vio_post(d, bufs, n) < 0 || !vio_wait_used(d, 0))
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
