// fuzz-sources: src/vmm/boot/boot.c src/vmm/boot/bzimage.c src/vmm/boot/decompress.c src/vmm/boot/elf.c src/vmm/boot/mptable.c src/vmm/boot/pvh.c src/vmm/boot/x86_tables.c src/vmm/boot/zeropage.c src/vmm/memory.c src/lib/error.c src/lib/log.c
// fuzz-seeds: tests/fuzz/seeds_boot_image.c
/* libFuzzer target: the kernel image parser (ELF, Capsule test guest, bzImage with every
 * payload codec) loading arbitrary bytes into a fake guest RAM. The first byte picks the
 * loader options; the rest is the kernel file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/vmm/boot/boot.h"
#include "../../src/vmm/boot/loader.h"

#define RAM_SIZE (32u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct guest_mem gm;

	if (!ram) {
		ram = calloc(1, RAM_SIZE);
		/* Decompression bombs are refused at this size; a larger limit only slows the fuzzer. */
		boot_decompress_max = 16u << 20;
	}
	if (size < 1)
		return 0;
	guest_mem_init_buffer(&gm, ram, RAM_SIZE);
	struct boot_config cfg = {
		.kernel_path = "fuzz",
		.cmdline = "console=ttyS0",
		.guest_decompress = data[0] & 1,
		.pvh = data[0] & 2,
		.ncpus = 1 + ((data[0] >> 2) & 7),
	};
	struct boot_info bi;
	cap_err err = { 0 };
	int r = boot_load_image(&gm, data + 1, size - 1, &cfg, &bi, &err);
	/* Invariants: an error always carries one message; a success describes what it loaded. */
	if (r < 0 && !err.set)
		abort();
	if (r == 0 && (bi.format[0] == 0 || bi.entry == 0 || bi.kernel_end > RAM_SIZE))
		abort();
	return 0;
}
