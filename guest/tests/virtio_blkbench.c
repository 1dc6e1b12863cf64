/* virtio-blk throughput at the device, for bench numbers: the guest streams requests with two in
 * flight (the shared driver's queue has 8 descriptors, 3 per request) and prints "blkbench: start"
 * and "blkbench: end ..." so the host can time the span and sample the VMM's CPU time.
 * Command line: blkbench.bs=BYTES (default 4 MiB, a multiple of 512), blkbench.mib=MiB to move
 * (default 512), blkbench.write (writes instead of reads), blkbench.rand (random offsets). The disk
 * must be at least blkbench.mib large for sequential runs. Requests are built in ring 0 (the MMIO
 * notify needs it); waits run in ring 3. */
#include "io.h"
#include "virtio.h"

#define T_IN 0
#define T_OUT 1
#define BUFSZ (4UL << 20)

struct req {
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} hdr;
	uint8_t status;
};

static struct req reqs[2];
static uint8_t data[2][BUFSZ] __attribute__((aligned(4096)));

int guest_main(void)
{
	struct vio_dev d;
	uint64_t bs = rt_cmdline_num("blkbench.bs", BUFSZ), mib = rt_cmdline_num("blkbench.mib", 512);
	int write = rt_cmdline_flag("blkbench.write"), rnd = rt_cmdline_flag("blkbench.rand");
	uint64_t seed = 0x9e3779b97f4a7c15ULL, sector = 0, capacity;

	if (bs == 0 || bs > BUFSZ || bs % 512) {
		rt_puts("blkbench: bad blkbench.bs\n");
		return RT_EXIT_FAIL;
	}
	if (vio_find(VIO_ID_BLK, 0, &d) < 0 || vio_init(&d, 0) < 0) {
		rt_puts("blkbench: no usable virtio-blk device\n");
		return RT_EXIT_FAIL;
	}
	capacity = vio_config64(&d, 0);
	uint64_t nreq = (mib << 20) / bs, done = 0, posted = 0, errors = 0, span = capacity / (bs / 512);
	if (span == 0) {
		rt_puts("blkbench: disk smaller than one request\n");
		return RT_EXIT_FAIL;
	}
	rt_printf("blkbench: start %s %s bs %lu requests %lu\n", rnd ? "random" : "sequential",
		  write ? "write" : "read", bs, nreq);
	/* Completions may come back in any order: a slot is reused only once its own request is done. */
	int busy[2] = { 0, 0 };
	while (done < nreq) {
		while (posted < nreq && (!busy[0] || !busy[1])) {
			unsigned i = busy[0] ? 1 : 0;
			busy[i] = 1;
			if (rnd) {
				seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
				sector = (seed >> 33) % span * (bs / 512);
			} else if (sector + bs / 512 > capacity) {
				sector = 0;
			}
			reqs[i].hdr.type = write ? T_OUT : T_IN;
			reqs[i].hdr.sector = sector;
			reqs[i].status = 0xff;
			struct vio_buf b[3] = { { &reqs[i].hdr, sizeof(reqs[i].hdr), 0 },
						{ data[i], (uint32_t)bs, !write },
						{ &reqs[i].status, 1, 1 } };
			vio_add(&d, 0, i * 3, b, 3);
			if (!rnd)
				sector += bs / 512;
			posted++;
		}
		vio_notify_q(&d, 0);
		uint32_t head, len;
		while (!vio_take(&d, 0, &head, &len)) {
			if (!vio_wait(&d, 0, 0)) {
				rt_puts("blkbench: request timed out\n");
				return RT_EXIT_FAIL;
			}
		}
		errors += reqs[head / 3].status != 0;
		busy[head / 3] = 0;
		done++;
	}
	rt_printf("blkbench: end requests %lu errors %lu\n", done, errors);
	/* Stay alive until the host has sampled our CPU time (a byte on COM1), or a while. */
	for (uint64_t polls = 1ULL << 20; polls-- && !(inb(0x3fd) & 1);)
		;
	return errors ? RT_EXIT_FAIL : 0;
}
