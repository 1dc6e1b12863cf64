/* virtio-balloon: inflating returns guest pages to the host (the memfd's blocks are freed and
 * the pages read back as zero), PFNs outside RAM are skipped, deflate is accounted, and the
 * statistics queue is parsed and its buffer held until the host asks for fresh numbers. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "test_virtio_fake.h"
#include "../../src/lib/log.h"
#include "../../src/vmm/virtio/balloon.h"
#include "../../src/vmm/virtio/devices.h"

#define MEM (16u << 20)
#define OVERSIZED (BALLOON_MAX_PFNS + 1)
#define PFNS 0x20000u		/* PFN array */
#define STATS 0x30000u
#define PAGES_AT 0x400000u	/* the pages given away: 4 MiB up */
#define NPAGES 1024u		/* 4 MiB */

static struct guest_mem gm;
static struct virtio_mmio *t;
static uint16_t aidx[3];

static uint64_t qbase(unsigned q)
{
	return 0x1000 + q * 0x4000ULL;
}

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, true);
}

static void add(unsigned q, uint16_t slot, uint64_t addr, uint32_t len)
{
	struct vring_desc *d = (struct vring_desc *)(gm.base + qbase(q));
	struct vring_avail *a = (struct vring_avail *)(gm.base + qbase(q) + 0x1000);
	d[slot] = (struct vring_desc){ addr, len, 0, 0 };
	a->ring[aidx[q] % 16] = slot;
	a->idx = ++aidx[q];
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static uint16_t used_idx(unsigned q)
{
	return ((struct vring_used *)(gm.base + qbase(q) + 0x2000))->idx;
}

static uint64_t blocks(void)
{
	struct stat st;
	fstat(gm.memfd, &st);
	return (uint64_t)st.st_blocks * 512;
}

static bool setup(void)
{
	memset(aidx, 0, sizeof(aidx));
	cap_err err = { 0 };
	CHECK_EQ(guest_mem_init(&gm, MEM, &err), 0);
	t = virtio_balloon_create(&gm, &err);
	CHECK(t != NULL);
	if (!t)
		return false;
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_BALLOON_F_STATS_VQ);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < 3; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, 16);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)qbase(q));
		wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)qbase(q) + 0x1000);
		wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)qbase(q) + 0x2000);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	return true;
}

static void test_inflate_deflate_stats(void)
{
	if (!setup())
		return;
	memset(gm.base + PAGES_AT - 4096, 0xab, (NPAGES + 1) * 4096ULL);
	uint64_t before = blocks();
	uint32_t *pfn = (uint32_t *)(gm.base + PFNS);
	for (unsigned i = 0; i < NPAGES; i++)
		pfn[i] = PAGES_AT / 4096 + i;
	pfn[NPAGES] = 0xfffff; /* outside RAM: skipped */
	/* In requests of the Linux driver's size (256 PFNs), then the stray PFN alone. */
	for (unsigned i = 0; i < NPAGES / 256; i++)
		add(0, (uint16_t)i, PFNS + i * 256 * 4ULL, 256 * 4);
	add(0, 4, PFNS + NPAGES * 4ULL, 4);
	CHECK_EQ(used_idx(0), 5);
	CHECK_EQ(virtio_balloon_released(t), (uint64_t)NPAGES);
	uint64_t after = blocks();
	/* The rings and the PFN array were touched after `before`: allow them 64 KiB. */
	CHECK(after + NPAGES * 4096ULL <= before + 65536);
	CHECK_EQ(gm.base[PAGES_AT], 0);
	CHECK_EQ(gm.base[PAGES_AT + NPAGES * 4096ULL - 1], 0);
	CHECK_EQ(gm.base[PAGES_AT - 1], 0xab);

	/* Deflate half. */
	add(1, 0, PFNS, 256 * 4);
	add(1, 1, PFNS + 256 * 4, 256 * 4);
	CHECK_EQ(used_idx(1), 2);
	CHECK_EQ(virtio_balloon_released(t), (uint64_t)NPAGES / 2);

	/* Target and actual through config space. */
	virtio_balloon_set_target(t, 300);
	uint32_t v = 0;
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG, (uint8_t *)&v, 4, false);
	CHECK_EQ(v, 300u);
	v = 200;
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG + 4, (uint8_t *)&v, 4, true);
	CHECK_EQ(virtio_balloon_actual(t), 200u);
	v = 5; /* num_pages is the host's: a driver write is ignored */
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG, (uint8_t *)&v, 4, true);
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG, (uint8_t *)&v, 4, false);
	CHECK_EQ(v, 300u);

	/* Stats: held until the host asks. */
	struct __attribute__((packed)) { uint16_t tag; uint64_t val; } st[2] = {
		{ VIRTIO_BALLOON_S_MEMFREE, 12345 }, { VIRTIO_BALLOON_S_MEMTOT, 99999 } };
	memcpy(gm.base + STATS, st, sizeof(st));
	add(2, 0, STATS, sizeof(st));
	CHECK_EQ(used_idx(2), 0);
	uint64_t out[VIRTIO_BALLOON_S_NR] = { 0 };
	virtio_balloon_stats(t, out);
	CHECK_EQ(out[VIRTIO_BALLOON_S_MEMFREE], 12345u);
	CHECK_EQ(out[VIRTIO_BALLOON_S_MEMTOT], 99999u);
	CHECK_EQ(used_idx(2), 1);
	virtio_device_free(t);
	guest_mem_free(&gm);
}

/* A PFN array longer than BALLOON_MAX_PFNS breaks the device instead of being walked: a guest
 * could otherwise point 1024 descriptors at the same 4 MiB and keep the I/O thread busy for
 * minutes per chain. */
static void test_oversized_pfn_array(void)
{
	if (!setup())
		return;
	uint32_t *pfn = (uint32_t *)(gm.base + PFNS);
	for (unsigned i = 0; i < OVERSIZED; i++)
		pfn[i] = PAGES_AT / 4096 + i % NPAGES;
	add(0, 0, PFNS, OVERSIZED * 4);
	CHECK_EQ(used_idx(0), 0);
	CHECK_EQ(virtio_balloon_released(t), 0u);
	uint32_t st = 0;
	virtio_mmio_access(t, VIRTIO_MMIO_STATUS, (uint8_t *)&st, 4, false);
	CHECK(st & VIRTIO_CONFIG_S_NEEDS_RESET);
	virtio_device_free(t);
	guest_mem_free(&gm);
}

/* At most BALLOON_PFNS_PER_PASS PFNs per pass of the I/O thread: with chains left the device
 * kicks itself through its queue's eventfd and returns to the loop. */
static void test_pass_budget(void)
{
	if (!setup())
		return;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	t->kick[0].fd = efd;	/* closed by the device */
	uint32_t *pfn = (uint32_t *)(gm.base + PFNS);
	for (unsigned i = 0; i < BALLOON_PFNS_PER_PASS; i++)
		pfn[i] = 0xffffffff;	/* outside RAM: walked, skipped */
	add(0, 0, PFNS, BALLOON_PFNS_PER_PASS * 4);
	add(0, 1, PFNS, BALLOON_PFNS_PER_PASS * 4);
	uint64_t v;
	virtio_mmio_kick_event(&t->kick[0], EPOLLIN);
	CHECK_EQ(used_idx(0), 1);
	CHECK_EQ(read(efd, &v, sizeof(v)), (ssize_t)sizeof(v));	/* kicked itself */
	virtio_mmio_kick_event(&t->kick[0], EPOLLIN);
	CHECK_EQ(used_idx(0), 2);
	CHECK(read(efd, &v, sizeof(v)) < 0);			/* nothing left */
	virtio_device_free(t);
	guest_mem_free(&gm);
}

/* The single pass over the buffers keeps PFNs that straddle two descriptors. */
static void test_walk_straddling_pfns(void)
{
	static uint8_t ram[1 << 20];
	static struct virtq_chain c;
	struct guest_mem m;
	uint32_t pfns[4] = { 1, 2, 3, 300 };	/* 300 is outside the 1 MiB */
	guest_mem_init_buffer(&m, ram, sizeof(ram));
	memcpy(ram, pfns, sizeof(pfns));
	c.out[0] = (struct iovec){ ram, 6 };
	c.out[1] = (struct iovec){ ram + 6, 1 };
	c.out[2] = (struct iovec){ ram + 7, 9 };
	c.nout = 3;
	c.out_len = 16;
	CHECK_EQ(balloon_walk_pfns(&m, &c, NULL, NULL), 3);
	c.out_len = (BALLOON_MAX_PFNS + 1) * 4;
	CHECK_EQ(balloon_walk_pfns(&m, &c, NULL, NULL), -E2BIG);
}

static void test_parse_stats(void)
{
	static struct virtq_chain c;
	uint8_t buf[25] = { 0 };
	uint64_t s[VIRTIO_BALLOON_S_NR] = { 0 };
	c.out[0] = (struct iovec){ buf, 25 };
	c.nout = 1;
	c.out_len = 25; /* not a multiple of 10 */
	CHECK(balloon_parse_stats(&c, s) < 0);
	buf[0] = 200; /* unknown tag: ignored */
	buf[2] = 7;
	c.out_len = 20;
	c.out[0].iov_len = 20;
	CHECK_EQ(balloon_parse_stats(&c, s), 2);
	CHECK_EQ(s[0], 0u);
	c.out_len = (BALLOON_MAX_STATS + 1) * 10; /* longer than any driver's: refused unread */
	CHECK_EQ(balloon_parse_stats(&c, s), -E2BIG);
}

int main(void)
{
	cap_log_set_level(CAP_LOG_ERROR);
	RUN(test_inflate_deflate_stats);
	RUN(test_parse_stats);
	RUN(test_oversized_pfn_array);
	RUN(test_walk_straddling_pfns);
	RUN(test_pass_budget);
	UNIT_EXIT();
}
