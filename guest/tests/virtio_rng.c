/* Drives the virtio-rng device (--rng) through the virtio-mmio transport: two 64-byte requests,
 * each must come back full and not constant. */
#include "virtio.h"

static uint8_t buf[64];

int guest_main(void)
{
	struct vio_dev d;
	int round;

	if (vio_find(VIO_ID_RNG, 0, &d) < 0) {
		rt_puts("rng: no virtio-rng device on the command line\n");
		return RT_EXIT_FAIL;
	}
	rt_printf("rng: device at %#lx irq %u\n", (unsigned long)d.base, d.irq);
	if (vio_init(&d, 0) < 0)
		return RT_EXIT_FAIL;
	for (round = 1; round <= 2; round++) {
		struct vio_buf b = { buf, sizeof(buf), 1 };
		uint8_t seen[256] = { 0 };
		unsigned distinct = 0, i;
		long len;

		memset(buf, 0, sizeof(buf));
		len = vio_transfer(&d, &b, 1);
		if (len < 0) {
			rt_puts("rng: request timed out\n");
			return RT_EXIT_FAIL;
		}
		for (i = 0; i < (unsigned long)len && i < sizeof(buf); i++)
			if (!seen[buf[i]]++)
				distinct++;
		rt_printf("rng: request %d: %ld bytes, %u distinct values\n", round, len, distinct);
		if (len != sizeof(buf) || distinct < 16)
			return RT_EXIT_FAIL;
	}
	rt_puts("rng: ok\n");
	return 0;
}
