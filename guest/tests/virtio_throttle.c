/* A rate-limited virtio-blk next to a free device on the same I/O thread: the guest keeps one
 * disk read in flight (throttle.n of them, 4 KiB each) and, while it waits for each, runs
 * virtio-rng requests. It prints "throttle: blk N errors E rng M" and the fewest rng requests
 * seen during any one disk read after the first throttle.skip ones ("rng-min-gap"), so the
 * host can check that a throttled disk holds back neither the I/O thread nor the other device.
 * Needs --disk (at least 4 KiB) and --rng. */
#include "virtio.h"

#define T_IN 0

static struct {
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} hdr;
	uint8_t status;
} req;
static uint8_t data[4096] __attribute__((aligned(4096)));
static uint8_t rnd[64];

static void post_read(struct vio_dev *blk)
{
	req.hdr.type = T_IN;
	req.hdr.sector = 0;
	req.status = 0xff;
	struct vio_buf b[3] = { { &req.hdr, sizeof(req.hdr), 0 }, { data, sizeof(data), 1 }, { &req.status, 1, 1 } };
	vio_add(blk, 0, 0, b, 3);
	vio_notify_q(blk, 0);
}

int guest_main(void)
{
	struct vio_dev blk, rng;
	uint64_t n = rt_cmdline_num("throttle.n", 6), skip = rt_cmdline_num("throttle.skip", 2);
	uint64_t done = 0, errors = 0, rngs = 0, gap = 0, min_gap = ~0ULL;

	if (vio_find(VIO_ID_BLK, 0, &blk) < 0 || vio_init(&blk, 0) < 0 || vio_find(VIO_ID_RNG, 0, &rng) < 0 ||
	    vio_init(&rng, 0) < 0) {
		rt_puts("throttle: needs a virtio-blk and a virtio-rng device\n");
		return RT_EXIT_FAIL;
	}
	rt_printf("throttle: start blk %lu requests\n", n);
	post_read(&blk);
	while (done < n) {
		if (vio_take(&blk, 0, NULL, NULL)) {
			errors += req.status != 0;
			if (done >= skip && gap < min_gap)
				min_gap = gap;
			done++;
			gap = 0;
			if (done < n)
				post_read(&blk);
			continue;
		}
		struct vio_buf b = { rnd, sizeof(rnd), 1 };
		if (vio_transfer(&rng, &b, 1) < 0) {
			rt_puts("throttle: rng request timed out\n");
			return RT_EXIT_FAIL;
		}
		rngs++;
		gap++;
	}
	if (min_gap == ~0ULL)
		min_gap = 0;
	rt_printf("throttle: blk %lu errors %lu rng %lu rng-min-gap %lu\n", done, errors, rngs, min_gap);
	return errors ? RT_EXIT_FAIL : 0;
}
