/* Follows the virtio-balloon's target (num_pages in its config space) the way a driver reports
 * it, without giving pages: each time the host changes the target (PATCH /balloon) it prints
 * "balloon: target N pages" and writes N to `actual`, for at most "balloon.polls=N" config reads
 * (default 3000000), then exits 0. tests/vm/test_api.sh drives it. */
#include "virtio.h"

#define VIO_ID_BALLOON 5
#define CFG_NUM_PAGES 0
#define CFG_ACTUAL 4

int guest_main(void)
{
	struct vio_dev d;
	uint64_t polls = rt_cmdline_num("balloon.polls", 3000000);
	if (vio_find(VIO_ID_BALLOON, 0, &d) < 0 || vio_init_queues(&d, 0, 2) < 0) {
		rt_puts("balloon: no usable virtio-balloon device\n");
		return RT_EXIT_FAIL;
	}
	uint32_t seen = vio_config32(&d, CFG_NUM_PAGES);
	rt_printf("balloon: target %u pages\n", seen);
	for (uint64_t i = 0; i < polls; i++) {
		uint32_t t = vio_config32(&d, CFG_NUM_PAGES);
		if (t == seen)
			continue;
		seen = t;
		*(volatile uint32_t *)(d.base + 0x100 + CFG_ACTUAL) = t;
		rt_printf("balloon: target %u pages\n", t);
	}
	return 0;
}
