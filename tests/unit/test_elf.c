/* ELF loading: segments at p_paddr with bss zeroed, every header field bounds-checked,
 * Capsule and PVH notes, and the file-level errors a user sees. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "unit.h"
#include "test_boot_fixtures.h"

static int load_elf(const struct tf_elf *o, struct boot_config *cfg, struct boot_info *bi, cap_err *err,
		    struct guest_mem *keep)
{
	size_t len;
	uint8_t *img = tf_make_elf(o, &len);
	struct guest_mem m;
	tf_mem(&m, 64);
	int r = boot_load_image(&m, img, len, cfg, bi, err);
	free(img);
	if (keep)
		*keep = m;
	else
		guest_mem_free(&m);
	return r;
}

static void test_load_segments(void)
{
	struct guest_mem m;
	struct boot_config cfg = { .kernel_path = "vmlinux", .ncpus = 1 };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(load_elf(&(struct tf_elf){ .paddr = 0x200000, .filesz = 5000, .memsz = 9000, .entry = 0x200010 },
			  &cfg, &bi, &err, &m), 0);
	CHECK_EQ(bi.kind, BOOT_ENTRY_LINUX64);
	CHECK_EQ(bi.entry, 0x200010);
	CHECK_EQ(bi.kernel_start, 0x200000);
	CHECK_EQ(bi.kernel_end, 0x200000 + 9000);
	CHECK_EQ(bi.boot_params, BOOT_ZERO_PAGE_ADDR);
	CHECK_STR(bi.format, "ELF vmlinux");
	const uint8_t *p = guest_mem_ptr(&m, 0x200000, 9000);
	int ok = 1;
	for (size_t i = 0; i < 5000; i++)
		ok &= p[i] == tf_byte(i);
	for (size_t i = 5000; i < 9000; i++)
		ok &= p[i] == 0;
	CHECK(ok);
	guest_mem_free(&m);
}

static void test_capsule_note(void)
{
	struct boot_config cfg = { .kernel_path = "guest", .ncpus = 2 };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(load_elf(&(struct tf_elf){ .paddr = 0x100000, .capsule_note = true }, &cfg, &bi, &err, NULL), 0);
	CHECK_EQ(bi.kind, BOOT_ENTRY_TEST_GUEST);
	CHECK_EQ(bi.entry, 0x100000);
	CHECK_STR(bi.format, "ELF (Capsule test guest)");
	/* A note with the right name but another type is not the marker. */
	size_t len;
	uint8_t *img = tf_make_elf(&(struct tf_elf){ .capsule_note = true }, &len);
	struct elf_info ei;
	CHECK_EQ(elf_load(NULL, "g", img, len, &ei, &err), 0);
	CHECK(ei.capsule_note);
	uint8_t *type = img + sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr) + 8;
	*type = 2;
	CHECK_EQ(elf_load(NULL, "g", img, len, &ei, &err), 0);
	CHECK(!ei.capsule_note);
	/* A note whose descsz or namesz runs past its segment is refused with one line, not
	 * booted as a plain kernel (issue 8) and not read out of bounds. */
	*type = 1;
	uint32_t big = 0x7fffffff;
	memcpy(img + sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr) + 4, &big, 4);
	cap_err e2 = { 0 };
	CHECK(elf_load(NULL, "g", img, len, &ei, &e2) < 0);
	CHECK(strstr(e2.msg, "kernel g: corrupt ELF: note at offset 0") != NULL);
	CHECK(strstr(e2.msg, "runs past its") != NULL);
	memcpy(img + sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr) + 4, &(uint32_t){ 0 }, 4);
	memcpy(img + sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr), &big, 4);
	cap_err e3 = { 0 };
	CHECK(elf_load(NULL, "g", img, len, &ei, &e3) < 0);
	CHECK(strstr(e3.msg, "namesz 2147483647") != NULL);
	free(img);
}

/* A PT_NOTE segment lying (in part) outside the file is refused with one line: skipping it
 * booted a Capsule test guest whose note it holds as a plain kernel (issue 8). */
static void test_note_segment_outside_file(void)
{
	size_t len;
	uint8_t *img = tf_make_elf(&(struct tf_elf){ .capsule_note = true }, &len);
	Elf64_Phdr note;
	uint8_t *at = img + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
	memcpy(&note, at, sizeof(note));
	CHECK_EQ(note.p_type, PT_NOTE);
	struct elf_info ei;
	cap_err err = { 0 };
	Elf64_Phdr bad = note;
	bad.p_offset = len; /* starts at the end of the file */
	memcpy(at, &bad, sizeof(bad));
	CHECK(elf_load(NULL, "g", img, len, &ei, &err) < 0);
	CHECK(strstr(err.msg, "kernel g: truncated ELF: note segment at offset") != NULL);
	CHECK(strstr(err.msg, "extends past the end of the file") != NULL);
	CHECK(strchr(err.msg, '\n') == NULL);
	bad = note;
	bad.p_filesz = len; /* starts inside, runs past the end */
	memcpy(at, &bad, sizeof(bad));
	cap_err e2 = { 0 };
	CHECK(elf_load(NULL, "g", img, len, &ei, &e2) < 0);
	CHECK(strstr(e2.msg, "note segment") != NULL);
	bad.p_offset = UINT64_MAX - 2; /* offset + size wraps */
	bad.p_filesz = 16;
	memcpy(at, &bad, sizeof(bad));
	cap_err e3 = { 0 };
	CHECK(elf_load(NULL, "g", img, len, &ei, &e3) < 0);
	CHECK(strstr(e3.msg, "note segment") != NULL);
	free(img);
}

static void test_pvh(void)
{
	struct guest_mem m;
	struct boot_config cfg = { .kernel_path = "vmlinux", .ncpus = 1, .pvh = true, .cmdline = "quiet",
				   .acpi_rsdp = 0xE0000 };
	struct boot_info bi;
	cap_err err = { 0 };
	const char *initrd = tf_tmpfile(1, "INITRD", 6);
	cfg.initrd_path = initrd;
	CHECK_EQ(load_elf(&(struct tf_elf){ .pvh_note = true, .pvh_entry = 0x1000100 }, &cfg, &bi, &err, &m), 0);
	CHECK_EQ(bi.kind, BOOT_ENTRY_PVH);
	CHECK_EQ(bi.entry, 0x1000100);
	CHECK_EQ(bi.boot_params, BOOT_PVH_INFO_ADDR);
	CHECK_STR(bi.format, "ELF vmlinux, PVH entry");
	uint32_t *si = guest_mem_ptr(&m, BOOT_PVH_INFO_ADDR, 56);
	CHECK_EQ(si[0], 0x336ec578u); /* magic */
	CHECK_EQ(si[1], 1);           /* version */
	CHECK_EQ(si[3], 1);           /* nr_modules */
	uint64_t modlist, cmdline, memmap;
	memcpy(&modlist, si + 4, 8);
	memcpy(&cmdline, si + 6, 8);
	memcpy(&memmap, si + 10, 8);
	CHECK_EQ(cmdline, BOOT_CMDLINE_ADDR);
	uint64_t rsdp;
	memcpy(&rsdp, si + 8, 8);
	CHECK_EQ(rsdp, 0xE0000);
	CHECK_STR((char *)guest_mem_ptr(&m, cmdline, 6), "quiet");
	CHECK_EQ(si[12], 3); /* memmap entries for 64 MiB */
	uint64_t *mod = guest_mem_ptr(&m, modlist, 32);
	CHECK_EQ(mod[0], bi.initrd_start);
	CHECK_EQ(mod[1], 6);
	uint64_t *mm = guest_mem_ptr(&m, memmap, 3 * 24);
	CHECK_EQ(mm[0], 0);
	CHECK_EQ(mm[1], BOOT_EBDA_START);
	CHECK_EQ(mm[6], 0x100000);
	CHECK_EQ(mm[7], 63 * TF_MIB);
	guest_mem_free(&m);
	unlink(initrd);

	/* Asked for PVH without the note */
	cfg.initrd_path = NULL;
	cap_err e2 = { 0 };
	CHECK(load_elf(&(struct tf_elf){ 0 }, &cfg, &bi, &e2, NULL) < 0);
	CHECK_STR(e2.msg, "kernel vmlinux: no PVH entry point (ELF note XEN_ELFNOTE_PHYS32_ENTRY)");
	/* The note is recorded but ignored without cfg.pvh */
	cfg.pvh = false;
	CHECK_EQ(load_elf(&(struct tf_elf){ .pvh_note = true, .pvh_entry = 0x1000100 }, &cfg, &bi, &err, NULL), 0);
	CHECK_EQ(bi.kind, BOOT_ENTRY_LINUX64);
	CHECK_EQ(bi.entry, 16 * TF_MIB);
}

static void expect(const char *what, uint8_t *img, size_t len, const char *want)
{
	struct guest_mem m;
	tf_mem(&m, 64);
	struct boot_config cfg = { .kernel_path = "/k/vmlinux", .ncpus = 1 };
	struct boot_info bi;
	cap_err err = { 0 };
	int r = boot_load_image(&m, img, len, &cfg, &bi, &err);
	if (r == 0 || !strstr(err.msg, want))
		printf("  %s: r=%d got \"%s\", want \"%s\"\n", what, r, err.msg, want);
	CHECK(r < 0);
	CHECK(strstr(err.msg, want) != NULL);
	/* Refused before anything was written: the segment's place is still zero. */
	const uint8_t *p = guest_mem_ptr(&m, 16 * TF_MIB, 4096);
	int clean = 1;
	for (int i = 0; i < 4096; i++)
		clean &= p[i] == 0;
	CHECK(clean);
	guest_mem_free(&m);
}

#define PH(img) ((Elf64_Phdr *)((img) + sizeof(Elf64_Ehdr)))
#define EH(img) ((Elf64_Ehdr *)(img))

static void test_bounds(void)
{
	size_t len;
	uint8_t *img = tf_make_elf(&(struct tf_elf){ 0 }, &len), *b = malloc(len);

#define FRESH() memcpy(b, img, len)
	FRESH();
	PH(b)->p_paddr = 64 * TF_MIB - (64 << 10); /* 96 KiB from there runs past 64 MiB */
	EH(b)->e_entry = PH(b)->p_paddr;
	expect("past RAM", b, len, "kernel /k/vmlinux: segment at 0x3ff0000 (96 KiB) does not fit in guest memory (64 MiB)");
	FRESH();
	PH(b)->p_paddr = 0xFFFFFFFFFFFFF000ULL;
	EH(b)->e_entry = PH(b)->p_paddr;
	expect("wraps", b, len, "does not fit in guest memory");
	FRESH();
	PH(b)->p_paddr = 0x8000;
	expect("below 1 MiB", b, len, "kernel /k/vmlinux: segment at 0x8000 is below 1 MiB");
	FRESH();
	PH(b)->p_filesz = PH(b)->p_memsz + 1;
	expect("filesz>memsz", b, len, "file size larger than its memory size");
	FRESH();
	PH(b)->p_offset = len - 100;
	expect("offset", b, len, "kernel /k/vmlinux: truncated ELF: segment at 0x1000000 extends past the end");
	FRESH();
	PH(b)->p_offset = UINT64_MAX - 10;
	expect("offset overflow", b, len, "truncated ELF");
	FRESH();
	EH(b)->e_phoff = len - 60;
	expect("phoff", b, len, "kernel /k/vmlinux: truncated ELF: program headers extend past the end of the file");
	FRESH();
	EH(b)->e_phnum = 0;
	expect("phnum 0", b, len, "corrupt ELF: 0 program headers");
	FRESH();
	EH(b)->e_phentsize = 10;
	expect("phentsize", b, len, "corrupt ELF");
	FRESH();
	EH(b)->e_phnum = 0xffff;
	expect("phnum huge", b, len, "corrupt ELF");
	FRESH();
	PH(b)->p_type = PT_NULL;
	expect("no load", b, len, "kernel /k/vmlinux: ELF has no loadable segment");
	FRESH();
	EH(b)->e_entry = 0xffffffff81000000ULL; /* a virtual entry: not what a vmlinux has */
	expect("entry", b, len, "kernel /k/vmlinux: entry point 0xffffffff81000000 is outside its loaded segments");
	FRESH();
	b[EI_CLASS] = ELFCLASS32;
	expect("class", b, len, "kernel /k/vmlinux: not an x86-64 ELF");
	FRESH();
	EH(b)->e_machine = EM_AARCH64;
	expect("machine", b, len, "not an x86-64 ELF");
	FRESH();
	EH(b)->e_type = ET_REL;
	expect("type", b, len, "ELF type 1 is not an executable");
	FRESH();
	expect("header", b, 40, "kernel /k/vmlinux: truncated ELF header");
	expect("segment data", b, len - 1, "truncated ELF");
#undef FRESH
	free(b);
	free(img);
}

static void test_file_errors(void)
{
	struct guest_mem m;
	tf_mem(&m, 64);
	struct boot_info bi;
	cap_err e1 = { 0 }, e2 = { 0 }, e3 = { 0 }, e4 = { 0 };
	struct boot_config cfg = { .kernel_path = "/nonexistent/x", .ncpus = 1 };
	CHECK(boot_load(&m, &cfg, &bi, &e1) < 0);
	CHECK_STR(e1.msg, "kernel /nonexistent/x: No such file or directory");
	cfg.kernel_path = "/etc/passwd";
	CHECK(boot_load(&m, &cfg, &bi, &e2) < 0);
	CHECK_STR(e2.msg, "kernel /etc/passwd: not an ELF or bzImage kernel");
	cfg.kernel_path = "/tmp";
	CHECK(boot_load(&m, &cfg, &bi, &e3) < 0);
	CHECK_STR(e3.msg, "kernel /tmp: Is a directory");
	const char *empty = tf_tmpfile(0, "", 0);
	cfg.kernel_path = empty;
	CHECK(boot_load(&m, &cfg, &bi, &e4) < 0);
	char want[128];
	snprintf(want, sizeof(want), "kernel %s: not an ELF or bzImage kernel", empty);
	CHECK_STR(e4.msg, want);
	unlink(empty);
	guest_mem_free(&m);
}

/* The ELF the fetch script extracts from Debian's bzImage loads like any vmlinux. */
static void test_real_vmlinux(void)
{
	const char *path = unit_linux_file("vmlinux");
	struct guest_mem m;
	tf_mem(&m, 256);
	struct boot_config cfg = { .kernel_path = path, .ncpus = 1 };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(boot_load(&m, &cfg, &bi, &err), 0);
	if (err.set)
		printf("  %s\n", err.msg);
	CHECK_EQ(bi.kind, BOOT_ENTRY_LINUX64);
	CHECK_EQ(bi.entry, 0x1000000);
	CHECK_STR(bi.format, "ELF vmlinux");
	guest_mem_free(&m);
}

int main(void)
{
	RUN(test_load_segments);
	RUN(test_capsule_note);
	RUN(test_note_segment_outside_file);
	RUN(test_pvh);
	RUN(test_bounds);
	RUN(test_file_errors);
	struct stat st;
	if (stat(unit_linux_file("vmlinux"), &st) == 0)
		RUN(test_real_vmlinux);
	else
		SKIP(test_real_vmlinux, unit_linux_missing("vmlinux"));
	UNIT_EXIT();
}
