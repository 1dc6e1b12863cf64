/* Prints numbered ticks on COM1 and keeps them in memory, for the snapshot tests
 * (tests/vm/test_snapshot.sh): a guest restored from a snapshot visibly continues where it
 * stopped, and the console output of a run cut by a snapshot plus that of its restore is the
 * output of an uncut run. Between ticks it spins in ring 3 (native speed here, no VM exit) and
 * writes one page of a buffer, so that diff snapshots find pages dirtied by the guest.
 *   ticks=N      (default 100) how many ticks before it exits 0
 *   spin=N       (default 10000000) ring-3 loop iterations between ticks
 *   ticker.rng   each tick also takes 64 bytes from the virtio-rng device (--rng)
 *   ticker.poke  poke the boot timer first (bench/vm_snapshot.sh: a boot of the same guest)
 *   ticker.blk   each tick also writes "tick N" to sector N % 64 of the first virtio-blk disk
 *                and reads it back (the queues' positions must survive a snapshot)
 *   dirty=MIB    the spin loop writes one byte to a page of the MIB MiB of RAM from 64 MiB up,
 *                sweeping it page by page without pause, so that a live migration
 *                (bench/vm_migrate.sh) faces a guest that keeps dirtying memory; refused (exit 11)
 *                unless the e820 map has RAM there */
#include "virtio.h"

#define TICKER_MAGIC 0x314b434954535043ULL	/* "CPSTICK1" */
#define PAGES 64

struct ticker {
	uint64_t magic;
	volatile uint64_t tick;
	volatile uint64_t spins;
} rt_ticker __attribute__((aligned(64))) = { .magic = TICKER_MAGIC };

#define DIRTY_BASE (64ULL << 20)	/* far above the image, below the smallest RAM it is run with */
#define PTE_USER 4ULL
#define PTE_ADDR 0x000ffffffffff000ULL

static volatile uint8_t pages[PAGES][4096] __attribute__((aligned(4096)));
static volatile uint8_t *dirty_mem;
static uint64_t dirty_pages, dirty_pos;
static struct vio_dev rng, blk;
static uint8_t rbuf[64], sector[512], status;
static struct {
	uint32_t type, reserved;
	uint64_t sector;
} hdr;

static long spin(long n)
{
	if (dirty_pages) {
		for (long i = 0; i < n; i++) {
			dirty_mem[dirty_pos << 12 | (rt_ticker.spins & 0xff8)] = (uint8_t)rt_ticker.spins;
			rt_ticker.spins++;
			if (++dirty_pos == dirty_pages)
				dirty_pos = 0;
		}
	} else {
		for (long i = 0; i < n; i++)
			rt_ticker.spins++;
	}
	pages[rt_ticker.tick % PAGES][rt_ticker.tick / PAGES % 4096] = (uint8_t)(rt_ticker.tick | 1);
	return 0;
}

static int rng_tick(void)
{
	struct vio_buf b = { rbuf, sizeof(rbuf), 1 };
	return (int)vio_transfer(&rng, &b, 1);
}

/* type 1 write, 0 read: the status byte, or -1 on timeout */
static int blk_request(uint32_t type, uint64_t sec)
{
	struct vio_buf b[3] = { { &hdr, sizeof(hdr), 0 }, { sector, sizeof(sector), type == 0 }, { &status, 1, 1 } };
	hdr.type = type;
	hdr.sector = sec;
	status = 0xff;
	return vio_transfer(&blk, b, 3) < 0 ? -1 : status;
}

static const char *blk_tick(uint64_t t)
{
	char want[32];
	unsigned n = 0;
	uint64_t v = t, div = 1;
	memset(sector, 0, sizeof(sector));
	memcpy(want, "tick ", 5);
	n = 5;
	while (v / div >= 10)
		div *= 10;
	for (; div; div /= 10)
		want[n++] = (char)('0' + v / div % 10);
	memcpy(sector, want, n);
	if (blk_request(1, t % 64) != 0)
		return "write failed";
	memset(sector, 0, sizeof(sector));
	if (blk_request(0, t % 64) != 0)
		return "read failed";
	for (unsigned i = 0; i < n; i++)
		if (sector[i] != (uint8_t)want[i])
			return "read back something else";
	return "ok";
}

/* Whether one e820 RAM entry of the zero page covers [a, a + n). */
static int ram_covers(uint64_t a, uint64_t n)
{
	const uint8_t *bp = rt_boot_params();
	unsigned count = bp[0x1e8];

	for (unsigned i = 0; i < count && i < 128; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		uint64_t addr = rt_rd64(e), size = rt_rd64(e + 8);
		if (rt_rd32(e + 16) == 1 && addr <= a && a + n <= addr + size)
			return 1;
	}
	return 0;
}

/* The VMM identity-maps the first 4 GiB with 2 MiB pages, supervisor-only; ring 3 needs the
 * U/S bit on the PDPT and PD entries of the region (the PML4 entry is opened with the image). */
static int dirty_setup(uint64_t mib)
{
	uint64_t cr3, *pml4, *pdpt, a, end = DIRTY_BASE + (mib << 20);

	if (!mib)
		return 0;
	if (end > (4ULL << 30) || !ram_covers(DIRTY_BASE, mib << 20))
		return -1;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(cr3 & ~0xfffULL);
	pml4[0] |= PTE_USER;
	pdpt = (uint64_t *)(pml4[0] & PTE_ADDR);
	for (a = DIRTY_BASE; a < end; a += 0x200000) {
		uint64_t *pd;
		pdpt[a >> 30] |= PTE_USER;
		pd = (uint64_t *)(pdpt[a >> 30] & PTE_ADDR);
		pd[(a >> 21) & 511] |= PTE_USER;
	}
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	dirty_mem = (volatile uint8_t *)DIRTY_BASE;
	dirty_pages = mib << 8;
	return 0;
}

int guest_main(void)
{
	if (rt_cmdline_flag("ticker.poke"))
		rt_boot_timer_poke();
	uint64_t n = rt_cmdline_num("ticks", 100), delay = rt_cmdline_num("spin", 10000000);
	int use_rng = rt_cmdline_flag("ticker.rng"), use_blk = rt_cmdline_flag("ticker.blk");
	if (use_rng && (vio_find(VIO_ID_RNG, 0, &rng) < 0 || vio_init(&rng, 0) < 0)) {
		rt_puts("ticker: no usable virtio-rng device\n");
		return RT_EXIT_FAIL;
	}
	if (use_blk && (vio_find(VIO_ID_BLK, 0, &blk) < 0 || vio_init(&blk, 0) < 0)) {
		rt_puts("ticker: no usable virtio-blk device\n");
		return RT_EXIT_FAIL;
	}
	uint64_t dirty = rt_cmdline_num("dirty", 0);
	if (dirty_setup(dirty) < 0) {
		rt_printf("ticker: dirty=%llu: no RAM from 64 MiB to %llu MiB\n", (unsigned long long)dirty,
			  (unsigned long long)(64 + dirty));
		return RT_EXIT_FAIL;
	}
	rt_printf("ticker: %llu ticks%s%s", (unsigned long long)n, use_rng ? ", rng" : "", use_blk ? ", blk" : "");
	if (dirty)
		rt_printf(", dirtying %llu MiB", (unsigned long long)dirty);
	rt_putc('\n');
	for (; rt_ticker.tick < n; rt_ticker.tick++) {
		uint64_t t = rt_ticker.tick;
		rt_printf("tick %llu", (unsigned long long)t);
		if (use_rng)
			rt_printf(" rng %d", rng_tick());
		if (use_blk)
			rt_printf(" blk %s", blk_tick(t));
		rt_putc('\n');
		rt_user_call(spin, (long)delay);
	}
	rt_printf("ticker: done after %llu spins\n", (unsigned long long)rt_ticker.spins);
	return 0;
}
