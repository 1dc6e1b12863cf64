/* The zero page and everything around it: header fields, e820 for small and >3 GiB guests,
 * initrd placement and refusal, command line limits, GDT/IDT/page tables. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "unit.h"
#include "test_boot_fixtures.h"

static uint8_t *elf_img;
static size_t elf_len;

static int load(struct guest_mem *m, const uint8_t *img, size_t len, struct boot_config *cfg, struct boot_info *bi,
		cap_err *err)
{
	if (!cfg->kernel_path)
		cfg->kernel_path = "/k/vmlinux";
	return boot_load_image(m, img, len, cfg, bi, err);
}

static void test_zero_page_elf(void)
{
	struct guest_mem m;
	tf_mem(&m, 64);
	struct boot_config cfg = { .cmdline = "console=ttyS0 panic=-1", .ncpus = 1 };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(load(&m, elf_img, elf_len, &cfg, &bi, &err), 0);
	struct boot_params *bp = tf_zero_page(&m);
	CHECK_EQ(bp->hdr.boot_flag, 0xAA55);
	CHECK_EQ(bp->hdr.header, 0x53726448);
	CHECK(bp->hdr.version >= 0x0206);
	CHECK_EQ(bp->hdr.type_of_loader, 0xFF);
	CHECK(bp->hdr.loadflags & BP_LOADED_HIGH);
	CHECK_EQ(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	CHECK_EQ(bp->ext_cmd_line_ptr, 0);
	CHECK_EQ(bp->sentinel, 0);
	CHECK_STR((char *)guest_mem_ptr(&m, BOOT_CMDLINE_ADDR, 1), "console=ttyS0 panic=-1");
	CHECK_EQ(bp->hdr.ramdisk_image, 0);
	CHECK_EQ(bp->hdr.ramdisk_size, 0);
	CHECK_EQ(bp->acpi_rsdp_addr, 0); /* no ACPI unless the VMM says where */
	/* the contract's raw offsets */
	const uint8_t *raw = (const uint8_t *)bp;
	uint32_t cl;
	memcpy(&cl, raw + 0x228, 4);
	CHECK_EQ(cl, BOOT_CMDLINE_ADDR);
	CHECK_EQ(raw[0x1e8], 3);
	/* e820 for 64 MiB: base memory, the reserved EBDA..1 MiB, then RAM to the end */
	CHECK_EQ(bp->e820_entries, 3);
	CHECK_EQ(bp->e820_table[0].addr, 0);
	CHECK_EQ(bp->e820_table[0].size, BOOT_EBDA_START);
	CHECK_EQ(bp->e820_table[0].type, BP_E820_RAM);
	CHECK_EQ(bp->e820_table[1].addr, BOOT_EBDA_START);
	CHECK_EQ(bp->e820_table[1].size, 0x100000 - BOOT_EBDA_START);
	CHECK_EQ(bp->e820_table[1].type, BP_E820_RESERVED);
	CHECK_EQ(bp->e820_table[2].addr, 0x100000);
	CHECK_EQ(bp->e820_table[2].size, 63 * TF_MIB);
	CHECK_EQ(bp->e820_table[2].type, BP_E820_RAM);
	uint64_t e820_2_addr;
	memcpy(&e820_2_addr, raw + 0x2d0 + 2 * 20, 8);
	CHECK_EQ(e820_2_addr, 0x100000);
	guest_mem_free(&m);
}

/* A bzImage's header is copied into the zero page, then the loader's fields go over it. */
static void test_zero_page_bzimage(void)
{
	size_t plen, len;
	uint8_t *pl = tf_compress(CODEC_GZIP, elf_img, elf_len, &plen);
	uint8_t *bz = tf_make_bzimage(pl, plen, &(struct tf_bz){ .init_size = 0x1234000 }, &len);
	struct guest_mem m;
	tf_mem(&m, 64);
	struct boot_config cfg = { .ncpus = 1, .acpi_rsdp = 0xE0000 };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(load(&m, bz, len, &cfg, &bi, &err), 0);
	struct boot_params *bp = tf_zero_page(&m);
	CHECK_EQ(bp->hdr.setup_sects, TF_BZ_SETUP_SECTS);
	CHECK_EQ(bp->hdr.version, 0x020f);
	CHECK_EQ(bp->hdr.init_size, 0x1234000);
	CHECK_EQ(bp->hdr.kernel_alignment, 0x200000);
	CHECK_EQ(bp->hdr.payload_length, plen);
	CHECK_EQ(bp->hdr.type_of_loader, 0xFF);
	CHECK_EQ(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	CHECK_EQ(bp->hdr.boot_flag, 0xAA55);
	uint64_t rsdp;
	memcpy(&rsdp, (const uint8_t *)bp + 0x070, 8);
	CHECK_EQ(rsdp, 0xE0000);
	/* nothing of the bzImage's setup code before 0x1f1 leaks in */
	CHECK_EQ(bp->sentinel, 0);
	CHECK_EQ(bp->e820_entries, 3);
	guest_mem_free(&m);
	free(pl);
	free(bz);
}

static void test_e820_above_4g(void)
{
	struct guest_mem m;
	tf_mem(&m, 3072 + 512); /* 3.5 GiB: 3 GiB below the MMIO hole, 512 MiB from 4 GiB */
	struct boot_config cfg = { .ncpus = 1 };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(load(&m, elf_img, elf_len, &cfg, &bi, &err), 0);
	struct boot_params *bp = tf_zero_page(&m);
	CHECK_EQ(bp->e820_entries, 4);
	CHECK_EQ(bp->e820_table[2].addr, 0x100000);
	CHECK_EQ(bp->e820_table[2].size, GUEST_MMIO_HOLE_START - 0x100000);
	CHECK_EQ(bp->e820_table[3].addr, 0x100000000ULL);
	CHECK_EQ(bp->e820_table[3].size, 512 * TF_MIB);
	CHECK_EQ(bp->e820_table[3].type, BP_E820_RAM);
	guest_mem_free(&m);
}

static void test_initrd_placement(void)
{
	size_t isz = 3 * TF_MIB + 123; /* odd size: the start still lands on a page */
	uint8_t *data = malloc(isz);
	for (size_t i = 0; i < isz; i++)
		data[i] = (uint8_t)(i * 13);
	const char *path = tf_tmpfile(1, data, isz);
	struct guest_mem m;
	tf_mem(&m, 64);
	struct boot_config cfg = { .ncpus = 1, .initrd_path = path };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(load(&m, elf_img, elf_len, &cfg, &bi, &err), 0);
	CHECK_EQ(bi.initrd_size, isz);
	CHECK_EQ(bi.initrd_start % 4096, 0);
	CHECK(bi.initrd_start + isz <= 64 * TF_MIB);
	CHECK(bi.initrd_start + isz > 64 * TF_MIB - 4096); /* as high as possible */
	CHECK(bi.initrd_start >= bi.kernel_end);
	const uint8_t *p = guest_mem_ptr(&m, bi.initrd_start, isz);
	CHECK(p && memcmp(p, data, isz) == 0);
	struct boot_params *bp = tf_zero_page(&m);
	CHECK_EQ(bp->hdr.ramdisk_image, bi.initrd_start);
	CHECK_EQ(bp->hdr.ramdisk_size, isz);
	CHECK_EQ(bp->ext_ramdisk_image, 0);
	guest_mem_free(&m);

	/* initrd_addr_max from a bzImage caps the placement below the end of RAM */
	size_t plen, len;
	uint8_t *pl = tf_compress(CODEC_ZSTD, elf_img, elf_len, &plen);
	uint8_t *bz = tf_make_bzimage(pl, plen, &(struct tf_bz){ .initrd_addr_max = 48 * TF_MIB - 1 }, &len);
	tf_mem(&m, 64);
	CHECK_EQ(load(&m, bz, len, &cfg, &bi, &err), 0);
	CHECK(bi.initrd_start + isz <= 48 * TF_MIB);
	CHECK(bi.initrd_start + isz > 48 * TF_MIB - 4096);
	guest_mem_free(&m);

	/* ... and with more than 3 GiB, the default 0x37FFFFFF limit of an ELF applies */
	tf_mem(&m, 3072 + 256);
	CHECK_EQ(load(&m, elf_img, elf_len, &cfg, &bi, &err), 0);
	CHECK(bi.initrd_start + isz <= 0x38000000ULL);
	CHECK(bi.initrd_start + isz > 0x38000000ULL - 4096);
	guest_mem_free(&m);
	free(pl);
	free(bz);
	free(data);
	unlink(path);
}

static void test_initrd_too_large(void)
{
	/* sparse 40 MiB file: costs no disk */
	const char *path = tf_tmpfile(1, "", 0);
	CHECK_EQ(truncate(path, 40 * TF_MIB), 0);
	struct guest_mem m;
	tf_mem(&m, 32);
	struct boot_config cfg = { .ncpus = 1, .initrd_path = path };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK(load(&m, elf_img, elf_len, &cfg, &bi, &err) < 0);
	char want[256];
	snprintf(want, sizeof(want), "initrd %s (40 MiB) does not fit in guest memory (32 MiB)", path);
	CHECK_STR(err.msg, want);
	guest_mem_free(&m);

	/* It would fit in RAM, but not above the kernel (which ends just past 16 MiB) */
	CHECK_EQ(truncate(path, 20 * TF_MIB), 0);
	tf_mem(&m, 36);
	cap_err e2 = { 0 };
	CHECK(load(&m, elf_img, elf_len, &cfg, &bi, &e2) < 0);
	snprintf(want, sizeof(want), "initrd %s (20 MiB) does not fit in guest memory (36 MiB)", path);
	CHECK_STR(e2.msg, want);
	guest_mem_free(&m);
	unlink(path);

	tf_mem(&m, 32);
	cfg.initrd_path = "/nonexistent/initrd";
	cap_err e3 = { 0 };
	CHECK(load(&m, elf_img, elf_len, &cfg, &bi, &e3) < 0);
	CHECK_STR(e3.msg, "initrd /nonexistent/initrd: No such file or directory");
	cfg.initrd_path = "/tmp";
	cap_err e4 = { 0 };
	CHECK(load(&m, elf_img, elf_len, &cfg, &bi, &e4) < 0);
	CHECK_STR(e4.msg, "initrd /tmp: Is a directory");
	guest_mem_free(&m);
}

static void test_cmdline_limits(void)
{
	struct guest_mem m;
	tf_mem(&m, 64);
	struct boot_info bi;
	char *big = malloc(BOOT_CMDLINE_MAX + 1);
	memset(big, 'a', BOOT_CMDLINE_MAX);
	big[BOOT_CMDLINE_MAX - 1] = 0; /* 65535 characters: the most an ELF kernel gets */
	struct boot_config cfg = { .ncpus = 1, .cmdline = big };
	cap_err err = { 0 };
	CHECK_EQ(load(&m, elf_img, elf_len, &cfg, &bi, &err), 0);
	CHECK_EQ(strlen((char *)guest_mem_ptr(&m, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX)), BOOT_CMDLINE_MAX - 1);
	big[BOOT_CMDLINE_MAX - 1] = 'a';
	big[BOOT_CMDLINE_MAX] = 0;
	cap_err e2 = { 0 };
	CHECK(load(&m, elf_img, elf_len, &cfg, &bi, &e2) < 0);
	CHECK_STR(e2.msg, "kernel /k/vmlinux: command line is 65536 bytes, longer than the 65535 it accepts");

	/* a bzImage says how much it takes: cmdline_size excludes the NUL */
	size_t plen, len;
	uint8_t *pl = tf_compress(CODEC_GZIP, elf_img, elf_len, &plen);
	uint8_t *bz = tf_make_bzimage(pl, plen, &(struct tf_bz){ .cmdline_size = 2047 }, &len);
	big[2047] = 0;
	cap_err e3 = { 0 };
	CHECK_EQ(load(&m, bz, len, &cfg, &bi, &e3), 0);
	big[2047] = 'a';
	big[2048] = 0;
	cap_err e4 = { 0 };
	CHECK(load(&m, bz, len, &cfg, &bi, &e4) < 0);
	CHECK_STR(e4.msg, "kernel /k/vmlinux: command line is 2048 bytes, longer than the 2047 it accepts");
	/* no command line at all: an empty string, still pointed to */
	cfg.cmdline = NULL;
	cap_err e5 = { 0 };
	CHECK_EQ(load(&m, bz, len, &cfg, &bi, &e5), 0);
	CHECK_STR((char *)guest_mem_ptr(&m, BOOT_CMDLINE_ADDR, 1), "");
	CHECK_EQ(tf_zero_page(&m)->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	free(pl);
	free(bz);
	free(big);
	guest_mem_free(&m);
}

static void test_gdt_idt_paging(void)
{
	struct guest_mem m;
	tf_mem(&m, 64);
	/* stale bytes where the tables go must not survive */
	memset(guest_mem_ptr(&m, 0, 0x10000), 0xee, 0x10000);
	struct boot_config cfg = { .ncpus = 1 };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(load(&m, elf_img, elf_len, &cfg, &bi, &err), 0);
	uint64_t *gdt = guest_mem_ptr(&m, BOOT_GDT_ADDR, 32);
	CHECK_EQ(gdt[0], 0);
	CHECK_EQ(gdt[1], 0);
	CHECK_EQ(gdt[BOOT_CS_SELECTOR / 8], 0x00af9b000000ffffULL);
	CHECK_EQ(gdt[BOOT_DS_SELECTOR / 8], 0x00cf93000000ffffULL);
	uint64_t *idt = guest_mem_ptr(&m, BOOT_IDT_ADDR, 8);
	CHECK_EQ(idt[0], 0);
	uint64_t *pml4 = guest_mem_ptr(&m, BOOT_PML4_ADDR, 4096);
	uint64_t *pdpt = guest_mem_ptr(&m, BOOT_PDPT_ADDR, 4096);
	uint64_t *pd = guest_mem_ptr(&m, BOOT_PD_ADDR, 4 * 4096);
	CHECK_EQ(pml4[0], BOOT_PDPT_ADDR | 3);
	CHECK_EQ(pml4[1], 0);
	CHECK_EQ(pml4[511], 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(pdpt[i], (BOOT_PD_ADDR + 4096 * (uint64_t)i) | 3);
	CHECK_EQ(pdpt[4], 0);
	/* every 2 MiB page of 0..4 GiB maps to itself: present, writable, large */
	int ok = 1;
	for (uint64_t i = 0; i < 2048; i++)
		ok &= pd[i] == ((i << 21) | 0x83);
	CHECK(ok);
	CHECK_EQ(pd[2047] & ~0xfffULL, 0xFFE00000ULL);
	guest_mem_free(&m);
}

static void test_config_errors(void)
{
	struct guest_mem m;
	static uint8_t small[1 << 20];
	guest_mem_init_buffer(&m, small, sizeof(small));
	struct boot_config cfg = { .ncpus = 1 };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK(load(&m, elf_img, elf_len, &cfg, &bi, &err) < 0);
	CHECK_STR(err.msg, "guest memory (1024 KiB) is too small to boot: at least 2 MiB needed");

	tf_mem(&m, 64);
	cfg.ncpus = BOOT_MAX_CPUS + 1;
	cap_err e2 = { 0 };
	CHECK(load(&m, elf_img, elf_len, &cfg, &bi, &e2) < 0);
	CHECK_STR(e2.msg, "255 vCPUs requested: the MP table describes at most 254");
	/* a kernel too big for the guest names both */
	cfg.ncpus = 1;
	cap_err e3 = { 0 };
	size_t len;
	uint8_t *img = tf_make_elf(&(struct tf_elf){ .filesz = 4096, .memsz = 60 * TF_MIB }, &len);
	CHECK(load(&m, img, len, &cfg, &bi, &e3) < 0);
	CHECK_STR(e3.msg, "kernel /k/vmlinux: segment at 0x1000000 (61440 KiB) does not fit in guest memory (64 MiB)");
	free(img);
	guest_mem_free(&m);
}

int main(void)
{
	elf_img = tf_make_elf(&(struct tf_elf){ 0 }, &elf_len);
	RUN(test_zero_page_elf);
	RUN(test_zero_page_bzimage);
	RUN(test_e820_above_4g);
	RUN(test_initrd_placement);
	RUN(test_initrd_too_large);
	RUN(test_cmdline_limits);
	RUN(test_gdt_idt_paging);
	RUN(test_config_errors);
	free(elf_img);
	UNIT_EXIT();
}
