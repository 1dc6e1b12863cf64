/* virtio-balloon from the guest side: touches BALLOON_MIB MiB of RAM (one write per page), waits
 * for a byte on COM1 (the host samples the VMM's RSS meanwhile), inflates all those pages in one
 * request, waits again, and exits. The pages read back as zero afterwards. */
#include "virtio_mq.h"

#define VIO_ID_BALLOON 5
#define AREA (32UL << 20)
#define MIB 128UL
#define NPAGES (MIB << 8)

static uint32_t pfns[NPAGES];

int guest_main(void)
{
	struct vio_dev found;
	struct vmq_dev d;
	uint32_t id, len;

	if (vio_find(VIO_ID_BALLOON, 0, &found) < 0 || vmq_init(&d, &found, 0, 1) < 0) {
		rt_puts("balloon: no usable virtio-balloon device\n");
		return RT_EXIT_FAIL;
	}
	for (uint64_t i = 0; i < NPAGES; i++)
		*(volatile uint8_t *)(AREA + (i << 12)) = 0xa5;
	rt_printf("balloon: touched %lu MiB\n", MIB);
	if (vmq_serial_getc(1ULL << 24) < 0)
		return RT_EXIT_FAIL;

	for (uint64_t i = 0; i < NPAGES; i++)
		pfns[i] = (uint32_t)((AREA >> 12) + i);
	struct vio_buf b = { pfns, sizeof(pfns), 0 };
	vmq_add(&d, 0, 0, &b, 1);
	vmq_kick(&d, 0);
	if (!vmq_wait(&d, 0, &id, &len, 1ULL << 31))
		return RT_EXIT_FAIL;
	unsigned nonzero = 0;
	for (uint64_t i = 0; i < NPAGES; i += 256)
		nonzero += *(volatile uint8_t *)(AREA + (i << 12)) != 0;
	rt_printf("balloon: inflated %lu pages, %u sampled pages nonzero\n", NPAGES, nonzero);
	if (vmq_serial_getc(1ULL << 24) < 0)
		return RT_EXIT_FAIL;
	return 0;
}
