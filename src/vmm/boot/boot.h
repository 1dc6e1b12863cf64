/* Loading a kernel into guest memory and writing everything the x86-64 Linux
 * boot protocol (or PVH, or a Capsule test guest) expects to find at entry. */
#ifndef CAPSULE_VMM_BOOT_H
#define CAPSULE_VMM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../lib/error.h"
#include "../memory.h"

enum boot_entry_kind {
	BOOT_ENTRY_LINUX64,    /* 64-bit entry: long mode, identity paging, RSI = zero page */
	BOOT_ENTRY_PVH,        /* PVH: 32-bit protected mode, paging off, EBX = hvm_start_info */
	BOOT_ENTRY_TEST_GUEST, /* Capsule test guest: like LINUX64, but every vCPU starts at the entry */
};

struct boot_config {
	const char *kernel_path;
	const char *initrd_path;    /* NULL: none */
	const char *cmdline;        /* final command line; NULL: empty */
	int ncpus;                  /* for the MP table */
	bool guest_decompress;      /* bzImage: let its own decompressor run in the guest instead of
	                               decompressing on the host (slower; for measurement) */
	bool pvh;                   /* ELF with a PVH note: enter through it (BOOT_ENTRY_PVH) */
	uint64_t acpi_rsdp;         /* where the VMM puts the ACPI RSDP (ACPI_RSDP_ADDR), 0 if none:
	                               passed in boot_params.acpi_rsdp_addr / hvm_start_info.rsdp_paddr */
};

/* APIC IDs are 8 bits and the IOAPIC takes the ID after the last CPU (0xFF is broadcast). */
#define BOOT_MAX_CPUS 254

struct boot_info {
	enum boot_entry_kind kind;
	uint64_t entry;             /* guest-physical entry point */
	uint64_t boot_params;       /* zero page (LINUX64, TEST_GUEST) or hvm_start_info (PVH) */
	char format[64];            /* human-readable, e.g. "bzImage (zstd payload, decompressed on host)" */
	double decompress_ms;       /* host wall time spent decompressing (0 if none) */
	uint64_t kernel_start, kernel_end;
	uint64_t initrd_start, initrd_size;
};

/* Load kernel (+initrd, cmdline) and write zero page, e820, MP table, GDT, IDT and
 * identity page tables. On failure fills err with one clear sentence naming the file. */
int boot_load(struct guest_mem *m, const struct boot_config *cfg, struct boot_info *out, cap_err *err);

/* Same, with the kernel already in memory (cfg->kernel_path only names it in errors; the initrd,
 * if any, is still read from cfg->initrd_path). Never trusts img: fuzzed directly. */
int boot_load_image(struct guest_mem *m, const uint8_t *img, size_t len, const struct boot_config *cfg,
		    struct boot_info *out, cap_err *err);

/* The ELF vmlinux inside a bzImage, decompressed on the host (`capsule vm extract-kernel`).
 * On success *elf is malloc'ed: the caller frees it. */
int bzimage_extract_elf(const char *path, uint8_t **elf, size_t *len, cap_err *err);

#endif
