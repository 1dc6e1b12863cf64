/* Internal interfaces of the boot loader (src/vmm/boot/). Every parser here works on an
 * in-memory image and bounds-checks every length and offset it reads from it. */
#ifndef CAPSULE_VMM_BOOT_LOADER_H
#define CAPSULE_VMM_BOOT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../lib/error.h"
#include "../memory.h"
#include "bootparams.h"

/* ---- ELF64 (elf.c) ---- */
struct elf_info {
	uint64_t entry;          /* e_entry */
	uint64_t start, end;     /* lowest p_paddr and highest p_paddr + p_memsz of PT_LOAD segments */
	bool capsule_note;       /* note "Capsule", type 1: a Capsule test guest */
	bool has_pvh;            /* note "Xen", XEN_ELFNOTE_PHYS32_ENTRY */
	uint32_t pvh_entry;
};

bool elf_is_elf(const uint8_t *img, size_t len);
/* Validate the image and, when m is not NULL, load its PT_LOAD segments at p_paddr.
 * name is the kernel's path for error messages. Nothing is written unless all checks pass. */
int elf_load(struct guest_mem *m, const char *name, const uint8_t *img, size_t len, struct elf_info *info,
	     cap_err *err);

/* ---- payload compression (decompress.c) ---- */
enum boot_codec {
	CODEC_UNKNOWN,
	CODEC_NONE, /* an ELF stored as is (CONFIG_KERNEL_UNCOMPRESSED) */
	CODEC_GZIP,
	CODEC_BZIP2,
	CODEC_LZMA,
	CODEC_XZ,
	CODEC_LZO,
	CODEC_LZ4,
	CODEC_ZSTD,
};

/* Upper bound on a decompressed kernel; fuzzers lower it to keep each run small. */
extern size_t boot_decompress_max;

enum boot_codec boot_codec_detect(const uint8_t *p, size_t len);
const char *boot_codec_name(enum boot_codec c);
/* Decompress one stream of codec c; trailing bytes (the kernel's appended size) are ignored.
 * On success *out is malloc'ed (caller frees). Errors name the kernel and the codec. */
int boot_decompress(const char *name, enum boot_codec c, const uint8_t *in, size_t len, uint8_t **out,
		    size_t *out_len, cap_err *err);

/* ---- bzImage (bzimage.c) ---- */
struct bzimage {
	struct setup_header hdr;    /* copied out of the image (zero where the image's header is shorter) */
	size_t hdr_len;             /* bytes of header present from 0x1f1, capped at the zero page's room */
	const uint8_t *raw_hdr;     /* img + 0x1f1 */
	const uint8_t *pm;          /* protected-mode part: what a boot loader puts at code32_start */
	size_t pm_len;
	const uint8_t *payload;     /* compressed vmlinux (NULL for protocol < 2.08) */
	size_t payload_len;
	enum boot_codec codec;
};

bool bzimage_is_bzimage(const uint8_t *img, size_t len);
int bzimage_parse(const char *name, const uint8_t *img, size_t len, struct bzimage *bz, cap_err *err);
/* Decompress bz's payload into an ELF vmlinux; *ms gets the host wall time spent. */
int bzimage_decompress(const char *name, const struct bzimage *bz, uint8_t **elf, size_t *elf_len, double *ms,
		       cap_err *err);

/* ---- memory map (zeropage.c) ---- */
/* The e820 map of m into e (room for max entries); returns the number of entries. */
int boot_e820(const struct guest_mem *m, struct e820_entry *e, int max);

/* ---- tables the CPU and Linux read (x86_tables.c, mptable.c, pvh.c) ---- */
int boot_write_gdt_idt_paging(struct guest_mem *m);
/* Largest size in bytes of the MP table for ncpus, and the writer. */
size_t mptable_size(int ncpus);
int mptable_write(struct guest_mem *m, int ncpus);
#define BOOT_MPTABLE_END BOOT_HIGH_MEM_START /* the table may use the reserved range up to 1 MiB */

struct pvh_args {
	uint64_t initrd_start, initrd_size;
	bool has_cmdline;
	uint64_t rsdp;   /* 0: no ACPI */
};
int pvh_write_start_info(struct guest_mem *m, const struct pvh_args *a);

/* The byte that makes n bytes sum to zero: the checksum rule of both the MP table and ACPI. */
static inline uint8_t boot_checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	while (n--)
		sum = (uint8_t)(sum + *b++);
	return (uint8_t)(0 - sum);
}

#endif
