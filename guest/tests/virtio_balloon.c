/* virtio-balloon from the guest side: touches 128 MiB of RAM (one write per page), waits for a
 * byte on COM1 (the host samples the VMM's RSS meanwhile), inflates all those pages in one
 * request, checks they read back as zero, waits again, and exits. */
#include "io.h"
#include "virtio.h"

#define VIO_ID_BALLOON 5
#define AREA (32UL << 20)
#define MIB 128UL
#define NPAGES (MIB << 8)

static uint32_t pfns[NPAGES];

/* COM1 input (the host's stdin with --console stdio); -1 when nothing came. */
static int serial_getc(uint64_t polls)
{
	while (polls--)
		if (inb(0x3fd) & 1)
			return inb(0x3f8);
	return -1;
}

int guest_main(void)
{
	struct vio_dev d;

	if (vio_find(VIO_ID_BALLOON, 0, &d) < 0 || vio_init(&d, 0) < 0) {
		rt_puts("balloon: no usable virtio-balloon device\n");
		return RT_EXIT_FAIL;
	}
	for (uint64_t i = 0; i < NPAGES; i++)
		*(volatile uint8_t *)(AREA + (i << 12)) = 0xa5;
	rt_printf("balloon: touched %lu MiB\n", MIB);
	if (serial_getc(1ULL << 24) < 0)
		return RT_EXIT_FAIL;

	for (uint64_t i = 0; i < NPAGES; i++)
		pfns[i] = (uint32_t)((AREA >> 12) + i);
	struct vio_buf b = { pfns, sizeof(pfns), 0 };
	if (vio_transfer(&d, &b, 1) < 0) {
		rt_puts("balloon: inflate request not answered\n");
		return RT_EXIT_FAIL;
	}
	unsigned nonzero = 0;
	for (uint64_t i = 0; i < NPAGES; i += 256)
		nonzero += *(volatile uint8_t *)(AREA + (i << 12)) != 0;
	rt_printf("balloon: inflated %lu pages, %u sampled pages nonzero\n", NPAGES, nonzero);
	if (serial_getc(1ULL << 24) < 0)
		return RT_EXIT_FAIL;
	return nonzero ? RT_EXIT_FAIL : 0;
}
