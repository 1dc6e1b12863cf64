/* The guest's memory map, as e820 entries (zero page) and PVH memmap entries. */
#include "layout.h"
#include "loader.h"

int boot_e820(const struct guest_mem *m, struct e820_entry *e, int max)
{
	uint64_t low = guest_mem_low_end(m);
	int n = 0;

	if (max < 4)
		return 0;
	/* Base memory up to the EBDA, where the MP table lives; the rest of the first MiB is
	 * where a PC has its video memory and BIOS, which Linux expects to be reserved. */
	e[n++] = (struct e820_entry){ .addr = 0, .size = BOOT_EBDA_START, .type = BP_E820_RAM };
	e[n++] = (struct e820_entry){ .addr = BOOT_EBDA_START, .size = BOOT_HIGH_MEM_START - BOOT_EBDA_START,
				      .type = BP_E820_RESERVED };
	if (low > BOOT_HIGH_MEM_START)
		e[n++] = (struct e820_entry){ .addr = BOOT_HIGH_MEM_START, .size = low - BOOT_HIGH_MEM_START,
					      .type = BP_E820_RAM };
	for (int i = 1; i < m->nregions; i++)
		e[n++] = (struct e820_entry){ .addr = m->regions[i].gpa, .size = m->regions[i].size,
					      .type = BP_E820_RAM };
	return n;
}
