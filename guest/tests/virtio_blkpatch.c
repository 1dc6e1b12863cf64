/* A disk the host changes under a running guest (the API's PATCH /drives: new limits, a new
 * backing file). The guest keeps one read of sector 0 (blkpatch.bs bytes, default 4 KiB) in
 * flight, again and again, and prints
 *   "blkpatch: reads N" every blkpatch.every completed reads (default 10): the host reads the
 *     last one at the times it picks and so counts the bytes moved in each window;
 *   "blkpatch: sector0 XXXXXXXXXXXXXXXX" first and whenever the sector's first 16 bytes change
 *     (printable bytes as they are, others as '.');
 *   "blkpatch: capacity C gen G config-irqs I" first and whenever the capacity (sectors) or the
 *     config generation changes (I: config-change interrupts seen in InterruptStatus so far).
 * It stops after blkpatch.n reads (0, the default: never) or at a failed read. */
#include "io.h"
#include "virtio.h"

#define T_IN 0
#define MAX_BS 65536
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_CONFIG_GENERATION 0x0fc

static struct {
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} hdr;
	uint8_t status;
} req;
static uint8_t data[MAX_BS] __attribute__((aligned(4096)));
static uint64_t config_irqs;

static uint32_t reg(struct vio_dev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->base + off);
}

static void post_read(struct vio_dev *d, uint32_t bs)
{
	req.hdr.type = T_IN;
	req.hdr.sector = 0;
	req.status = 0xff;
	struct vio_buf b[3] = { { &req.hdr, sizeof(req.hdr), 0 }, { data, bs, 1 }, { &req.status, 1, 1 } };
	vio_add(d, 0, 0, b, 3);
	vio_notify_q(d, 0);
}

/* vio_take, but acknowledging only the interrupt bits it read, so that a config-change
 * interrupt is counted here and never lost to the used-buffer ack. */
static int take(struct vio_dev *d)
{
	struct vio_vq *vq = &d->vq[0];
	if (*(volatile uint16_t *)&vq->mem->used.idx == vq->used_idx)
		return 0;
	vq->used_idx++;
	uint32_t isr = reg(d, REG_INTERRUPT_STATUS);
	if (isr & 2)
		config_irqs++;
	*(volatile uint32_t *)(d->base + REG_INTERRUPT_ACK) = isr;
	return 1;
}

static void print_sector(void)
{
	char s[17];
	for (int i = 0; i < 16; i++)
		s[i] = data[i] >= 0x20 && data[i] < 0x7f ? (char)data[i] : '.';
	s[16] = 0;
	rt_printf("blkpatch: sector0 %s\n", s);
}

int guest_main(void)
{
	struct vio_dev d;
	uint64_t n = rt_cmdline_num("blkpatch.n", 0), every = rt_cmdline_num("blkpatch.every", 10);
	uint64_t bs = rt_cmdline_num("blkpatch.bs", 4096), reads = 0;
	uint8_t last[16];

	if (bs == 0 || bs > MAX_BS || bs % 512 || every == 0) {
		rt_puts("blkpatch: bad blkpatch.bs or blkpatch.every\n");
		return RT_EXIT_FAIL;
	}
	if (vio_find(VIO_ID_BLK, 0, &d) < 0 || vio_init(&d, 0) < 0) {
		rt_puts("blkpatch: no usable virtio-blk device\n");
		return RT_EXIT_FAIL;
	}
	uint64_t capacity = vio_config64(&d, 0);
	uint32_t gen = reg(&d, REG_CONFIG_GENERATION);
	rt_printf("blkpatch: capacity %lu gen %u config-irqs 0\n", capacity, gen);
	post_read(&d, (uint32_t)bs);
	while (n == 0 || reads < n) {
		if (!take(&d)) {
			vio_wait(&d, 0, 0); /* a throttled read may wait long: no timeout here */
			continue;
		}
		if (req.status != 0) {
			rt_printf("blkpatch: read %lu failed with status %u\n", reads, req.status);
			return RT_EXIT_FAIL;
		}
		reads++;
		if (reads == 1 || memcmp(last, data, sizeof(last))) {
			memcpy(last, data, sizeof(last));
			print_sector();
		}
		uint64_t c = vio_config64(&d, 0);
		uint32_t g = reg(&d, REG_CONFIG_GENERATION);
		if (c != capacity || g != gen) {
			capacity = c;
			gen = g;
			rt_printf("blkpatch: capacity %lu gen %u config-irqs %lu\n", capacity, gen, config_irqs);
		}
		if (reads % every == 0)
			rt_printf("blkpatch: reads %lu\n", reads);
		post_read(&d, (uint32_t)bs);
	}
	return 0;
}
