/* boot_load: put a kernel (ELF, Capsule test guest or bzImage), its initrd and command line
 * into guest memory and write what the x86-64 boot protocol expects around them: the zero
 * page with its e820 map, an MP table, a GDT, an empty IDT and identity page tables. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "layout.h"
#include "loader.h"

#define KERNEL_FILE_MAX (1ULL << 30)
#define BOOT_MIN_LOW_RAM (BOOT_HIGH_MEM_START + (1ULL << 20)) /* below that nothing but tables fits */
#define ELF_KERNEL_ALIGN 0x1000000   /* what a bzImage would say: CONFIG_PHYSICAL_ALIGN */
#define ELF_PROTOCOL_VERSION 0x020c  /* up to xloadflags; fields it implies are zero = "none" */
#define PM_ENTRY64_OFFSET 0x200      /* boot.rst: 64-bit entry of the protected-mode part */
#define PM_DEFAULT_ADDR BOOT_HIGH_MEM_START
#define PAGE 4096ULL

static uint64_t mib_up(uint64_t n)
{
	return (n + (1ULL << 20) - 1) >> 20;
}

/* Map a whole regular file of at most max bytes read-only (a vmlinux is ~50 MiB: mapping it
 * saves a copy and the page faults of a malloc'ed buffer). Errors read "<what> <path>: <reason>".
 * Release with unmap_file(). An empty file maps to a non-NULL zero-length buffer.
 * Known limit: a file truncated by someone else while it is loaded raises SIGBUS, as for any
 * mapped file; kernels are not files that change under a starting VM. */
static int map_file(const char *what, const char *path, uint64_t max, uint8_t **buf, size_t *len, cap_err *err)
{
	static uint8_t empty[1];
	struct stat st;
	int ret = 0;

	*buf = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer before the file-type check. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return cap_errf(err, errno, "%s %s", what, path);
	if (fstat(fd, &st) < 0) {
		ret = cap_errf(err, errno, "%s %s", what, path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = cap_errf(err, EISDIR, "%s %s", what, path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = cap_errf(err, 0, "%s %s: not a regular file", what, path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		ret = cap_errf(err, EFBIG, "%s %s (%llu MiB)", what, path, (unsigned long long)mib_up(st.st_size));
		goto out;
	}
	if (st.st_size == 0) {
		*buf = empty;
		goto out;
	}
	/* MAP_POPULATE: the whole file is read anyway; one pass of read-ahead beats faulting. */
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		ret = cap_errf(err, errno, "%s %s", what, path);
		goto out;
	}
	*buf = p;
	*len = (size_t)st.st_size;
out:
	close(fd);
	return ret;
}

static void unmap_file(uint8_t *buf, size_t len)
{
	if (len)
		munmap(buf, len);
}

/* Highest page-aligned spot below min(addr_max, low RAM end) and above the kernel. */
static int load_initrd(struct guest_mem *m, const char *path, uint64_t kernel_end, uint64_t addr_max,
		       struct boot_info *out, cap_err *err)
{
	struct stat st;
	int ret = 0;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer before the file-type check. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return cap_errf(err, errno, "initrd %s", path);
	if (fstat(fd, &st) < 0) {
		ret = cap_errf(err, errno, "initrd %s", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = cap_errf(err, EISDIR, "initrd %s", path);
		goto out;
	}
	/* Its size must be known up front to place it (a pipe or FIFO has none), and a kernel
	 * given an empty initramfs fails late and obscurely. */
	if (!S_ISREG(st.st_mode)) {
		ret = cap_errf(err, 0, "initrd %s: not a regular file", path);
		goto out;
	}
	if (st.st_size == 0) {
		ret = cap_errf(err, 0, "initrd %s: the file is empty", path);
		goto out;
	}
	uint64_t size = (uint64_t)st.st_size;
	uint64_t top = guest_mem_low_end(m);
	if (addr_max < top - 1)
		top = addr_max + 1;
	uint64_t floor = kernel_end > BOOT_HIGH_MEM_START ? kernel_end : BOOT_HIGH_MEM_START;
	floor = (floor + PAGE - 1) & ~(PAGE - 1);
	if (floor > top || size > ((top - floor) & ~(PAGE - 1)) || ((top - size) & ~(PAGE - 1)) < floor) {
		ret = cap_errf(err, 0, "initrd %s (%llu MiB) does not fit in guest memory (%llu MiB)", path,
			       (unsigned long long)mib_up(size), (unsigned long long)(m->total >> 20));
		goto out;
	}
	uint64_t start = (top - size) & ~(PAGE - 1);
	uint8_t *dst = guest_mem_ptr(m, start, size);
	if (!dst) {
		ret = cap_errf(err, EFAULT, "initrd %s", path);
		goto out;
	}
	uint64_t got = 0;
	while (got < size) {
		ssize_t n = pread(fd, dst + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = cap_errf(err, errno, "initrd %s", path);
			goto out;
		}
		if (n == 0) {
			ret = cap_errf(err, 0, "initrd %s: file shrank while it was read", path);
			goto out;
		}
		got += (uint64_t)n;
	}
	out->initrd_start = start;
	out->initrd_size = size;
out:
	close(fd);
	return ret;
}

/* The protected-mode part as is, for the kernel's own decompressor to run in the guest. */
static int load_bzimage_in_guest(struct guest_mem *m, const char *name, const struct bzimage *bz,
				 struct boot_params *bp, struct boot_info *out, cap_err *err)
{
	if (!(bz->hdr.xloadflags & BP_XLF_KERNEL_64))
		return cap_errf(err, 0, "kernel %s: bzImage has no 64-bit entry point (boot protocol %u.%02u)", name,
				bz->hdr.version >> 8, bz->hdr.version & 0xff);
	uint64_t addr = bz->hdr.pref_address >= BOOT_HIGH_MEM_START ? bz->hdr.pref_address : PM_DEFAULT_ADDR;
	/* init_size covers the decompressor's work area; never load less than the file holds. */
	uint64_t need = bz->hdr.init_size > bz->pm_len ? bz->hdr.init_size : bz->pm_len;
	uint8_t *dst = guest_mem_ptr(m, addr, need);
	if (!dst)
		return cap_errf(err, 0, "kernel %s: needs %llu MiB at 0x%llx, more than guest memory (%llu MiB)", name,
				(unsigned long long)mib_up(need), (unsigned long long)addr,
				(unsigned long long)(m->total >> 20));
	memcpy(dst, bz->pm, bz->pm_len);
	bp->hdr.code32_start = (uint32_t)addr;
	out->kind = BOOT_ENTRY_LINUX64;
	out->entry = addr + PM_ENTRY64_OFFSET;
	out->kernel_start = addr;
	out->kernel_end = addr + need;
	snprintf(out->format, sizeof(out->format), "bzImage (%s payload, decompressed in guest)",
		 boot_codec_name(bz->codec));
	return 0;
}

static int write_cmdline(struct guest_mem *m, const char *name, const char *cmdline, uint64_t limit,
			 struct boot_params *bp, cap_err *err)
{
	size_t n = cmdline ? strlen(cmdline) : 0;
	if (limit > BOOT_CMDLINE_MAX - 1)
		limit = BOOT_CMDLINE_MAX - 1;
	if (n > limit)
		return cap_errf(err, 0, "kernel %s: command line is %zu bytes, longer than the %llu it accepts", name, n,
				(unsigned long long)limit);
	if (guest_mem_write(m, BOOT_CMDLINE_ADDR, cmdline ? cmdline : "", n + 1) < 0)
		return cap_errf(err, EFAULT, "kernel %s: command line", name);
	bp->hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
	bp->ext_cmd_line_ptr = (uint32_t)(BOOT_CMDLINE_ADDR >> 32);
	return 0;
}

/* What loading one kernel image gathers on the way: the zero page being built, the ELF that
 * ends up in memory, and the limits the kernel's header sets. */
struct image_load {
	const char *name;
	struct boot_params bp;
	struct elf_info ei;
	bool is_elf;               /* an ELF is in memory (given as one, or decompressed) */
	uint64_t initrd_max, cmdline_max;
	uint8_t *dec;              /* a decompressed payload, freed by the caller */
};

static int load_elf(struct guest_mem *m, struct image_load *l, const uint8_t *img, size_t len,
		    struct boot_info *out, cap_err *err)
{
	int r = elf_load(m, l->name, img, len, &l->ei, err);
	if (r < 0)
		return r;
	l->is_elf = true;
	snprintf(out->format, sizeof(out->format), "%s", l->ei.capsule_note ? "ELF (Capsule test guest)" : "ELF vmlinux");
	/* What a bzImage's header would have told a loader about this kernel. */
	l->bp.hdr.version = ELF_PROTOCOL_VERSION;
	l->bp.hdr.kernel_alignment = ELF_KERNEL_ALIGN;
	l->bp.hdr.initrd_addr_max = BP_INITRD_ADDR_MAX_DEFAULT;
	l->bp.hdr.cmdline_size = BOOT_CMDLINE_MAX - 1;
	return 0;
}

/* Its payload decompressed on the host and loaded as an ELF, or (guest_decompress) the
 * protected-mode part as it is. */
static int load_bzimage(struct guest_mem *m, struct image_load *l, const uint8_t *img, size_t len,
			const struct boot_config *cfg, struct boot_info *out, cap_err *err)
{
	struct bzimage bz;
	int r = bzimage_parse(l->name, img, len, &bz, err);
	if (r < 0)
		return r;
	/* As a boot loader does: the kernel's own header first, then our fields over it. */
	memcpy((uint8_t *)&l->bp + BP_SETUP_HDR_OFF, bz.raw_hdr, bz.hdr_len);
	l->initrd_max = bz.hdr.initrd_addr_max;
	l->cmdline_max = bz.hdr.cmdline_size;
	if (cfg->guest_decompress && !cfg->pvh)
		return load_bzimage_in_guest(m, l->name, &bz, &l->bp, out, err);
	size_t dlen;
	if ((r = bzimage_decompress(l->name, &bz, &l->dec, &dlen, &out->decompress_ms, err)) < 0 ||
	    (r = elf_load(m, l->name, l->dec, dlen, &l->ei, err)) < 0)
		return r;
	l->is_elf = true;
	if (bz.codec == CODEC_NONE)
		snprintf(out->format, sizeof(out->format), "bzImage (uncompressed payload)");
	else
		snprintf(out->format, sizeof(out->format), "bzImage (%s payload, decompressed on host)",
			 boot_codec_name(bz.codec));
	return 0;
}

/* An ELF in memory: where to enter it (its e_entry, or its PVH note's entry). */
static int choose_elf_entry(const struct image_load *l, const struct boot_config *cfg, struct boot_info *out,
			    cap_err *err)
{
	const struct elf_info *ei = &l->ei;
	out->kind = ei->capsule_note ? BOOT_ENTRY_TEST_GUEST : BOOT_ENTRY_LINUX64;
	out->entry = ei->entry;
	out->kernel_start = ei->start;
	out->kernel_end = ei->end;
	if (!cfg->pvh)
		return 0;
	if (!ei->has_pvh)
		return cap_errf(err, 0, "kernel %s: no PVH entry point (ELF note XEN_ELFNOTE_PHYS32_ENTRY)", l->name);
	if (ei->pvh_entry < ei->start || ei->pvh_entry >= ei->end)
		return cap_errf(err, 0, "kernel %s: PVH entry point 0x%x is outside its loaded segments", l->name,
				ei->pvh_entry);
	out->kind = BOOT_ENTRY_PVH;
	out->entry = ei->pvh_entry;
	size_t n = strlen(out->format);
	snprintf(out->format + n, sizeof(out->format) - n, ", PVH entry");
	return 0;
}

/* The zero page (and for PVH the start info) around what is loaded. */
static int write_boot_params(struct guest_mem *m, struct image_load *l, const struct boot_config *cfg,
			     struct boot_info *out, cap_err *err)
{
	struct boot_params *bp = &l->bp;
	if (out->initrd_size) {
		bp->hdr.ramdisk_image = (uint32_t)out->initrd_start;
		bp->hdr.ramdisk_size = (uint32_t)out->initrd_size;
		bp->ext_ramdisk_image = (uint32_t)(out->initrd_start >> 32);
		bp->ext_ramdisk_size = (uint32_t)(out->initrd_size >> 32);
	}
	/* Loader fields. CAN_USE_HEAP/heap_end_ptr describe the real-mode setup's heap; the
	 * 64-bit entry skips that code, so they stay as the kernel left them. */
	bp->hdr.boot_flag = BP_BOOT_FLAG;
	bp->hdr.header = BP_HDR_MAGIC;
	bp->hdr.type_of_loader = BP_LOADER_UNDEFINED;
	bp->hdr.loadflags |= BP_LOADED_HIGH;
	bp->sentinel = 0;
	bp->e820_entries = (uint8_t)boot_e820(m, bp->e820_table, BP_E820_MAX);
	/* Saves Linux its scan of the BIOS area for the RSDP. */
	bp->acpi_rsdp_addr = cfg->acpi_rsdp;
	if (guest_mem_write(m, BOOT_ZERO_PAGE_ADDR, bp, sizeof(*bp)) < 0)
		return cap_errf(err, EFAULT, "zero page");
	out->boot_params = BOOT_ZERO_PAGE_ADDR;
	if (out->kind == BOOT_ENTRY_PVH) {
		struct pvh_args pa = { .initrd_start = out->initrd_start, .initrd_size = out->initrd_size,
				       .has_cmdline = true, .rsdp = cfg->acpi_rsdp };
		int r = pvh_write_start_info(m, &pa);
		if (r < 0)
			return cap_errf(err, -r, "PVH start info");
		out->boot_params = BOOT_PVH_INFO_ADDR;
	}
	return 0;
}

/* What the CPUs read: MP table, GDT, IDT, identity page tables. */
static int write_cpu_tables(struct guest_mem *m, int ncpus, cap_err *err)
{
	int r = mptable_write(m, ncpus);
	if (r < 0)
		return cap_errf(err, -r, "MP table for %d vCPUs", ncpus);
	r = boot_write_gdt_idt_paging(m);
	if (r < 0)
		return cap_errf(err, -r, "boot page tables");
	return 0;
}

int boot_load_image(struct guest_mem *m, const uint8_t *img, size_t len, const struct boot_config *cfg,
		    struct boot_info *out, cap_err *err)
{
	struct image_load l = {
		.name = cfg->kernel_path ? cfg->kernel_path : "(in memory)",
		.initrd_max = BP_INITRD_ADDR_MAX_DEFAULT,
		.cmdline_max = BOOT_CMDLINE_MAX - 1,
	};
	int ncpus = cfg->ncpus > 0 ? cfg->ncpus : 1;
	int r;

	memset(out, 0, sizeof(*out));
	if (ncpus > BOOT_MAX_CPUS)
		return cap_errf(err, 0, "%d vCPUs requested: the MP table describes at most %d", ncpus, BOOT_MAX_CPUS);
	if (guest_mem_low_end(m) < BOOT_MIN_LOW_RAM)
		return cap_errf(err, 0, "guest memory (%llu KiB) is too small to boot: at least %llu MiB needed",
				(unsigned long long)(m->total >> 10), (unsigned long long)(BOOT_MIN_LOW_RAM >> 20));

	if (elf_is_elf(img, len))
		r = load_elf(m, &l, img, len, out, err);
	else if (bzimage_is_bzimage(img, len))
		r = load_bzimage(m, &l, img, len, cfg, out, err);
	else
		r = cap_errf(err, 0, "kernel %s: not an ELF or bzImage kernel", l.name);
	if (r == 0 && l.is_elf)
		r = choose_elf_entry(&l, cfg, out, err);
	if (r == 0)
		r = write_cmdline(m, l.name, cfg->cmdline, l.cmdline_max, &l.bp, err);
	if (r == 0 && cfg->initrd_path)
		r = load_initrd(m, cfg->initrd_path, out->kernel_end, l.initrd_max, out, err);
	if (r == 0)
		r = write_boot_params(m, &l, cfg, out, err);
	if (r == 0)
		r = write_cpu_tables(m, ncpus, err);
	free(l.dec);
	return r;
}

int boot_load(struct guest_mem *m, const struct boot_config *cfg, struct boot_info *out, cap_err *err)
{
	uint8_t *img;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!cfg->kernel_path)
		return cap_errf(err, EINVAL, "no kernel given");
	int r = map_file("kernel", cfg->kernel_path, KERNEL_FILE_MAX, &img, &len, err);
	if (r < 0)
		return r;
	r = boot_load_image(m, img, len, cfg, out, err);
	unmap_file(img, len);
	return r;
}

int bzimage_extract_elf(const char *path, uint8_t **elf, size_t *len, cap_err *err)
{
	uint8_t *img;
	size_t ilen;
	struct bzimage bz;
	double ms;

	*elf = NULL;
	*len = 0;
	int r = map_file("kernel", path, KERNEL_FILE_MAX, &img, &ilen, err);
	if (r < 0)
		return r;
	if (!bzimage_is_bzimage(img, ilen))
		r = cap_errf(err, 0, "kernel %s: not a bzImage", path);
	else if ((r = bzimage_parse(path, img, ilen, &bz, err)) == 0)
		r = bzimage_decompress(path, &bz, elf, len, &ms, err);
	unmap_file(img, ilen);
	return r;
}
