/* virtio-balloon (--balloon), page by page: fills four pages with a pattern, inflates the middle
 * two (plus a PFN far outside RAM, which the device must ignore), and checks that those two now read as zero (the
 * host really dropped them) while their neighbours kept the pattern; then deflates them and checks
 * they are usable again. The page checks run in ring 3, where a 4 KiB loop is cheap. */
#include "virtio.h"

#define Q_INFLATE 0
#define Q_DEFLATE 1
#define PAGE 4096
#define PATTERN 0xab

static uint8_t pages[4][PAGE] __attribute__((aligned(PAGE)));
static uint32_t pfns[3];

/* Ring 3 helpers: arg = page index * 256 + byte value. */
static long fill(long arg)
{
	memset(pages[arg >> 8], (int)(arg & 0xff), PAGE);
	return 0;
}

static long all_equal(long arg)
{
	const uint8_t *p = pages[arg >> 8];
	unsigned i;

	for (i = 0; i < PAGE; i++)
		if (p[i] != (uint8_t)(arg & 0xff))
			return 0;
	return 1;
}

static int give(struct vio_dev *d, unsigned q, unsigned n)
{
	struct vio_buf b = { pfns, n * 4, 0 };

	vio_add(d, q, 0, &b, 1);
	vio_notify_q(d, q);
	if (!vio_wait(d, q, 0))
		return -1;
	vio_take(d, q, NULL, NULL);
	return 0;
}

int guest_main(void)
{
	struct vio_dev d;
	int i, zero, intact, ok;

	if (vio_find(VIO_ID_BALLOON, 0, &d) < 0) {
		rt_puts("balloon: no virtio-balloon device on the command line\n");
		return RT_EXIT_FAIL;
	}
	if (vio_init_queues(&d, 0, 2) < 0)
		return RT_EXIT_FAIL;
	rt_printf("balloon: num_pages %u actual %u\n", vio_config32(&d, 0), vio_config32(&d, 4));
	for (i = 0; i < 4; i++)
		rt_user_call(fill, i * 256 + PATTERN);

	pfns[0] = (uint32_t)((uintptr_t)pages[1] / PAGE);
	pfns[1] = (uint32_t)((uintptr_t)pages[2] / PAGE);
	pfns[2] = 0xfffffff0;	/* 16 TiB up: no RAM there */
	if (give(&d, Q_INFLATE, 3) < 0) {
		rt_puts("balloon: inflate timed out\n");
		return RT_EXIT_FAIL;
	}
	zero = rt_user_call(all_equal, 1 * 256) && rt_user_call(all_equal, 2 * 256);
	intact = rt_user_call(all_equal, 0 * 256 + PATTERN) && rt_user_call(all_equal, 3 * 256 + PATTERN);
	rt_printf("balloon: inflated pages read as zero: %s\n", zero ? "yes" : "NO");
	rt_printf("balloon: neighbouring pages intact: %s\n", intact ? "yes" : "NO");

	if (give(&d, Q_DEFLATE, 2) < 0) {
		rt_puts("balloon: deflate timed out\n");
		return RT_EXIT_FAIL;
	}
	rt_user_call(fill, 1 * 256 + 0x5a);
	rt_user_call(fill, 2 * 256 + 0x5a);
	ok = rt_user_call(all_equal, 1 * 256 + 0x5a) && rt_user_call(all_equal, 2 * 256 + 0x5a);
	rt_printf("balloon: deflated pages usable: %s\n", ok ? "yes" : "NO");
	return zero && intact && ok ? 0 : RT_EXIT_FAIL;
}
