/* Prints what the VMM put in the zero page (RSI): the command line (cmd_line_ptr, offset 0x228), the
 * initrd (ramdisk_image/ramdisk_size at 0x218/0x21c, and its first bytes) and the e820 map (count at
 * 0x1e8, entries at 0x2d0), summed as usable RAM and the top of usable RAM. */
#include "rt.h"

#define BP_E820_COUNT 0x1e8
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_CMDLINE_SIZE 0x238
#define BP_E820_TABLE 0x2d0
#define E820_MAX 128
#define E820_RAM 1

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

int guest_main(void)
{
	const uint8_t *bp = rt_boot_params();
	uint32_t ptr, size, rd, rd_size;
	unsigned n, i;
	uint64_t ram = 0, top = 0;

	memcpy(&ptr, bp + BP_CMD_LINE_PTR, sizeof(ptr));
	memcpy(&size, bp + BP_CMDLINE_SIZE, sizeof(size));
	if (ptr) {
		const char *s = (const char *)(uintptr_t)ptr;
		uint32_t max = size && size < 65536 ? size : 4096;

		rt_puts("cmdline: [");
		for (i = 0; i < max && s[i]; i++)
			rt_putc(s[i]);
		rt_puts("]\n");
	} else {
		rt_puts("cmdline: (none)\n");
	}

	memcpy(&rd, bp + BP_RAMDISK_IMAGE, sizeof(rd));
	memcpy(&rd_size, bp + BP_RAMDISK_SIZE, sizeof(rd_size));
	if (rd && rd_size) {
		const char *d = (const char *)(uintptr_t)rd;

		rt_printf("initrd: %u bytes at %#x: [", rd_size, rd);
		for (i = 0; i < rd_size && i < 32 && d[i] >= ' ' && d[i] <= '~'; i++)
			rt_putc(d[i]);
		rt_puts("]\n");
	} else {
		rt_puts("initrd: none\n");
	}

	n = bp[BP_E820_COUNT];
	rt_printf("e820: %u entries\n", n);
	for (i = 0; i < n && i < E820_MAX; i++) {
		struct e820_entry e;

		memcpy(&e, bp + BP_E820_TABLE + i * sizeof(e), sizeof(e));
		rt_printf("e820: %#lx-%#lx type %u\n", e.addr, e.addr + e.size - 1, e.type);
		if (e.type == E820_RAM) {
			ram += e.size;
			if (e.addr + e.size > top)
				top = e.addr + e.size;
		}
	}
	rt_printf("ram: %lu KiB usable, top %lu MiB\n", ram >> 10, top >> 20);
	return 0;
}
