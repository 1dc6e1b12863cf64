/* bzImage parsing and host-side decompression for every codec, corrupt and truncated
 * payloads, guest-side decompression layout, extract-kernel, and the real Debian kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "unit.h"
#include "test_boot_fixtures.h"

static const enum boot_codec codecs[] = { CODEC_GZIP, CODEC_XZ, CODEC_LZMA, CODEC_LZ4, CODEC_ZSTD, CODEC_BZIP2 };
#define NCODECS (sizeof(codecs) / sizeof(codecs[0]))

static uint8_t *elf_img;
static size_t elf_len;

/* A bzImage of elf_img with codec c, its payload mangled by fn (may be NULL). */
static uint8_t *make(enum boot_codec c, size_t *len, void (*fn)(uint8_t *p, size_t *plen))
{
	size_t plen;
	uint8_t *pl = tf_compress(c, elf_img, elf_len, &plen);
	if (!pl)
		return NULL;
	if (fn)
		fn(pl, &plen);
	uint8_t *bz = tf_make_bzimage(pl, plen, &(struct tf_bz){ 0 }, len);
	free(pl);
	return bz;
}

static int load(const uint8_t *img, size_t len, struct boot_config *cfg, struct boot_info *bi, cap_err *err,
		uint64_t mib)
{
	struct guest_mem m;
	tf_mem(&m, mib);
	int r = boot_load_image(&m, img, len, cfg, bi, err);
	if (r == 0) {
		/* The segment must be there byte for byte, its bss zeroed. */
		const uint8_t *p = guest_mem_ptr(&m, 16 * TF_MIB, 96 << 10);
		for (size_t i = 0; p && i < (64 << 10); i++)
			if (p[i] != tf_byte(i)) {
				r = -1000;
				break;
			}
		for (size_t i = 64 << 10; p && r == 0 && i < (96 << 10); i++)
			if (p[i])
				r = -1001;
	}
	guest_mem_free(&m);
	return r;
}

static void test_every_codec(void)
{
	for (size_t i = 0; i < NCODECS; i++) {
		size_t len;
		uint8_t *bz = make(codecs[i], &len, NULL);
		CHECK(bz != NULL);
		if (!bz)
			continue;
		struct boot_config cfg = { .kernel_path = "bz", .ncpus = 1 };
		struct boot_info bi;
		cap_err err = { 0 };
		int r = load(bz, len, &cfg, &bi, &err, 64);
		if (r != 0)
			printf("  %s: r=%d %s\n", boot_codec_name(codecs[i]), r, err.msg);
		CHECK_EQ(r, 0);
		CHECK_EQ(bi.kind, BOOT_ENTRY_LINUX64);
		CHECK_EQ(bi.entry, 16 * TF_MIB);
		char want[64];
		snprintf(want, sizeof(want), "bzImage (%s payload, decompressed on host)", boot_codec_name(codecs[i]));
		CHECK_STR(bi.format, want);
		CHECK(bi.decompress_ms >= 0);
		CHECK_EQ(bi.kernel_start, 16 * TF_MIB);
		CHECK_EQ(bi.kernel_end, 16 * TF_MIB + (96 << 10));
		free(bz);
	}
}

static void test_codec_detect(void)
{
	CHECK_EQ(boot_codec_detect((const uint8_t *)"\x1f\x8b\x08", 3), CODEC_GZIP);
	CHECK_EQ(boot_codec_detect((const uint8_t *)"\xfd" "7zXZ\0", 6), CODEC_XZ);
	CHECK_EQ(boot_codec_detect((const uint8_t *)"\xfd" "7zXZ", 5), CODEC_UNKNOWN);
	CHECK_EQ(boot_codec_detect((const uint8_t *)"BZh9", 4), CODEC_BZIP2);
	CHECK_EQ(boot_codec_detect((const uint8_t *)"\x5d\0\0\x80", 4), CODEC_LZMA);
	CHECK_EQ(boot_codec_detect((const uint8_t *)"\x02\x21\x4c\x18", 4), CODEC_LZ4);
	CHECK_EQ(boot_codec_detect((const uint8_t *)"\x28\xb5\x2f\xfd", 4), CODEC_ZSTD);
	CHECK_EQ(boot_codec_detect((const uint8_t *)"\x89LZO", 4), CODEC_LZO);
	CHECK_EQ(boot_codec_detect((const uint8_t *)"\x7f" "ELF", 4), CODEC_NONE);
	CHECK_EQ(boot_codec_detect((const uint8_t *)"", 0), CODEC_UNKNOWN);
}

/* lz4 legacy blocks hold 8 MiB: a bigger kernel takes several, like Debian's. */
static void test_lz4_many_blocks(void)
{
	size_t len, big_len;
	uint8_t *big = tf_make_elf(&(struct tf_elf){ .filesz = 17 * TF_MIB, .memsz = 17 * TF_MIB }, &big_len);
	size_t plen;
	uint8_t *pl = tf_compress(CODEC_LZ4, big, big_len, &plen);
	uint8_t *bz = tf_make_bzimage(pl, plen, &(struct tf_bz){ 0 }, &len);
	uint8_t *out;
	size_t olen;
	cap_err err = { 0 };
	CHECK_EQ(boot_decompress("k", CODEC_LZ4, pl, plen, &out, &olen, &err), 0);
	CHECK_EQ(olen, big_len);
	CHECK(out && memcmp(out, big, big_len) == 0);
	free(out);
	/* Without the kernel's appended size the stream simply ends with the input. */
	CHECK_EQ(boot_decompress("k", CODEC_LZ4, pl, plen - 4, &out, &olen, &err), 0);
	CHECK_EQ(olen, big_len);
	free(out);
	free(pl);
	free(bz);
	free(big);
}

static void flip_middle(uint8_t *p, size_t *plen)
{
	for (size_t i = *plen / 2; i < *plen / 2 + 16; i++)
		p[i] ^= 0x55;
}

static void garbage_after_magic(uint8_t *p, size_t *plen)
{
	uint32_t x = 12345;
	for (size_t i = 6; i < *plen; i++) {
		x = x * 1103515245 + 12345;
		p[i] = (uint8_t)(x >> 16);
	}
}

static void cut_half(uint8_t *p, size_t *plen)
{
	(void)p;
	*plen /= 2;
}

static void expect_error(enum boot_codec c, void (*fn)(uint8_t *, size_t *), const char *want_substr)
{
	size_t len;
	uint8_t *bz = make(c, &len, fn);
	struct boot_config cfg = { .kernel_path = "/k/bz", .ncpus = 1 };
	struct boot_info bi;
	cap_err err = { 0 };
	int r = load(bz, len, &cfg, &bi, &err, 64);
	CHECK(r < 0 && r > -1000);
	char want[160];
	snprintf(want, sizeof(want), "kernel /k/bz: corrupt %s payload%s", boot_codec_name(c), want_substr);
	if (!strstr(err.msg, want) || getenv("VERBOSE"))
		printf("  %s: got \"%s\", want \"%s\"\n", boot_codec_name(c), err.msg, want);
	CHECK(strstr(err.msg, want) != NULL);
	free(bz);
}

/* Codecs with an integrity check catch a flipped byte; without one (lzma, lz4) the stream
 * still must not decode into something we would boot. */
static void test_corrupt_payloads(void)
{
	expect_error(CODEC_GZIP, flip_middle, ": ");
	expect_error(CODEC_XZ, flip_middle, ": ");
	expect_error(CODEC_BZIP2, flip_middle, ": ");
	expect_error(CODEC_ZSTD, flip_middle, ": ");
	for (size_t i = 0; i < NCODECS; i++)
		expect_error(codecs[i], garbage_after_magic, ": ");
}

static void test_truncated_payloads(void)
{
	for (size_t i = 0; i < NCODECS; i++)
		expect_error(codecs[i], cut_half, ": truncated");
}

static void expect_msg(const uint8_t *img, size_t len, const char *want)
{
	struct boot_config cfg = { .kernel_path = "/k/bz", .ncpus = 1 };
	struct boot_info bi;
	cap_err err = { 0 };
	int r = load(img, len, &cfg, &bi, &err, 64);
	CHECK(r < 0 && r > -1000);
	if (!strstr(err.msg, want))
		printf("  got \"%s\", want \"%s\"\n", err.msg, want);
	CHECK(strstr(err.msg, want) != NULL);
}

static void test_lzo_and_unknown(void)
{
	size_t len;
	uint8_t *bz = make(CODEC_LZO, &len, NULL);
	expect_msg(bz, len, "kernel /k/bz: lzo-compressed payload is unsupported");
	free(bz);
	bz = tf_make_bzimage((const uint8_t *)"\x11\x22\x33\x44\x55", 5, &(struct tf_bz){ 0 }, &len);
	expect_msg(bz, len, "kernel /k/bz: payload compression not recognised (magic 11 22 33 44)");
	free(bz);
	/* A stream that decompresses fine but is not an ELF. */
	static const uint8_t text[] = "this is not a kernel, just text that gzip will happily compress";
	size_t plen;
	uint8_t *pl = tf_compress(CODEC_GZIP, text, sizeof(text), &plen);
	bz = tf_make_bzimage(pl, plen, &(struct tf_bz){ 0 }, &len);
	expect_msg(bz, len, "kernel /k/bz: the gzip payload does not hold an ELF vmlinux");
	free(pl);
	free(bz);
}

static void test_uncompressed_payload(void)
{
	size_t len;
	uint8_t *bz = make(CODEC_NONE, &len, NULL);
	struct boot_config cfg = { .kernel_path = "bz", .ncpus = 1 };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(load(bz, len, &cfg, &bi, &err, 64), 0);
	CHECK_STR(bi.format, "bzImage (uncompressed payload)");
	free(bz);
}

static void test_truncated_headers(void)
{
	size_t len;
	uint8_t *bz = make(CODEC_GZIP, &len, NULL);
	/* Cut anywhere before the payload's end: every prefix must be refused cleanly. */
	static const size_t cuts[] = { 0x203, 0x206, 0x207, 0x300, TF_BZ_PM_OFF, TF_BZ_PM_OFF + 1,
				       TF_BZ_PM_OFF + TF_BZ_PAYLOAD_OFF + 10 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct boot_config cfg = { .kernel_path = "/k/bz", .ncpus = 1 };
		struct boot_info bi;
		cap_err err = { 0 };
		int r = load(bz, cuts[i], &cfg, &bi, &err, 64);
		CHECK(r < 0 && r > -1000);
		CHECK(strncmp(err.msg, "kernel /k/bz: ", 14) == 0);
	}
	/* payload_length pointing past the end of the file */
	uint8_t *bad = malloc(len);
	memcpy(bad, bz, len);
	uint32_t huge = 0xfffffff0;
	memcpy(bad + 0x24c, &huge, 4);
	expect_msg(bad, len, "kernel /k/bz: truncated bzImage: payload");
	/* an old protocol without payload_offset, loaded on the host */
	memcpy(bad, bz, len);
	uint16_t v = 0x0207;
	memcpy(bad + 0x206, &v, 2);
	expect_msg(bad, len, "older than 2.08");
	free(bad);
	free(bz);
}

static void test_guest_decompress(void)
{
	size_t len;
	uint8_t *bz = make(CODEC_XZ, &len, NULL);
	struct guest_mem m;
	tf_mem(&m, 64);
	struct boot_config cfg = { .kernel_path = "bz", .ncpus = 1, .guest_decompress = true };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(boot_load_image(&m, bz, len, &cfg, &bi, &err), 0);
	CHECK_EQ(bi.kind, BOOT_ENTRY_LINUX64);
	CHECK_EQ(bi.entry, 16 * TF_MIB + 0x200);
	CHECK_EQ(bi.kernel_start, 16 * TF_MIB);
	CHECK_EQ(bi.kernel_end, 36 * TF_MIB); /* init_size 20 MiB */
	CHECK_STR(bi.format, "bzImage (xz payload, decompressed in guest)");
	CHECK_EQ(bi.decompress_ms, 0);
	const uint8_t *pm = guest_mem_ptr(&m, 16 * TF_MIB, len - TF_BZ_PM_OFF);
	CHECK(pm && memcmp(pm, bz + TF_BZ_PM_OFF, len - TF_BZ_PM_OFF) == 0);
	struct boot_params *bp = tf_zero_page(&m);
	CHECK_EQ(bp->hdr.code32_start, 16 * TF_MIB);
	CHECK_EQ(bp->hdr.version, 0x020f);
	CHECK_EQ(bp->hdr.init_size, 20 * TF_MIB); /* copied from the kernel's header */
	guest_mem_free(&m);

	/* init_size larger than memory */
	tf_mem(&m, 32);
	cap_err err2 = { 0 };
	CHECK(boot_load_image(&m, bz, len, &cfg, &bi, &err2) < 0);
	CHECK(strstr(err2.msg, "kernel bz: needs 20 MiB at 0x1000000, more than guest memory (32 MiB)") != NULL);
	guest_mem_free(&m);
	free(bz);

	/* No 64-bit entry point */
	size_t plen;
	uint8_t *pl = tf_compress(CODEC_GZIP, elf_img, elf_len, &plen);
	bz = tf_make_bzimage(pl, plen, &(struct tf_bz){ .xloadflags = 0x100 }, &len);
	tf_mem(&m, 64);
	cap_err err3 = { 0 };
	CHECK(boot_load_image(&m, bz, len, &cfg, &bi, &err3) < 0);
	CHECK(strstr(err3.msg, "no 64-bit entry point") != NULL);
	guest_mem_free(&m);
	free(pl);
	free(bz);
}

static void test_extract_elf(void)
{
	size_t len;
	uint8_t *bz = make(CODEC_ZSTD, &len, NULL);
	const char *path = tf_tmpfile(0, bz, len);
	uint8_t *elf;
	size_t elen;
	cap_err err = { 0 };
	CHECK_EQ(bzimage_extract_elf(path, &elf, &elen, &err), 0);
	CHECK_EQ(elen, elf_len);
	CHECK(elf && memcmp(elf, elf_img, elf_len) == 0);
	free(elf);
	unlink(path);

	cap_err e2 = { 0 };
	path = tf_tmpfile(0, elf_img, elf_len);
	CHECK(bzimage_extract_elf(path, &elf, &elen, &e2) < 0);
	char want[128];
	snprintf(want, sizeof(want), "kernel %s: not a bzImage", path);
	CHECK_STR(e2.msg, want);
	unlink(path);

	cap_err e3 = { 0 };
	CHECK(bzimage_extract_elf("/nonexistent/vmlinuz", &elf, &elen, &e3) < 0);
	CHECK_STR(e3.msg, "kernel /nonexistent/vmlinuz: No such file or directory");
	free(bz);
}

/* A decompression bomb stops at the configured limit with a clear error. */
static void test_output_limit(void)
{
	size_t zlen = 32 * TF_MIB, plen;
	uint8_t *zeros = calloc(1, zlen);
	uint8_t *pl = tf_compress(CODEC_ZSTD, zeros, zlen, &plen);
	size_t saved = boot_decompress_max;
	boot_decompress_max = 8 * TF_MIB;
	uint8_t *out;
	size_t olen;
	cap_err err = { 0 };
	CHECK(boot_decompress("k", CODEC_ZSTD, pl, plen, &out, &olen, &err) < 0);
	CHECK_STR(err.msg, "kernel k: zstd payload decompresses to more than 8 MiB");
	boot_decompress_max = saved;
	free(pl);
	free(zeros);
}

static const char *real_kernel(void)
{
	const char *path = unit_linux_file("vmlinuz");
	struct stat st;
	return stat(path, &st) == 0 && st.st_size > 0 ? path : NULL;
}

static void test_real_kernel(void)
{
	const char *path = real_kernel();
	uint8_t *elf;
	size_t elen;
	cap_err err = { 0 };
	CHECK_EQ(bzimage_extract_elf(path, &elf, &elen, &err), 0);
	if (err.set)
		printf("  %s\n", err.msg);
	CHECK(elf && elf_is_elf(elf, elen));
	Elf64_Ehdr eh;
	memcpy(&eh, elf, sizeof(eh));
	/* vmlinux's entry is phys_startup_64: the physical load address, 16 MiB on Debian. */
	CHECK_EQ(eh.e_entry, 0x1000000);
	CHECK_EQ(eh.e_machine, EM_X86_64);
	/* Debian's kernel is built with CONFIG_PVH: its Xen note names a 32-bit entry inside it. */
	struct elf_info ei;
	CHECK_EQ(elf_load(NULL, path, elf, elen, &ei, &err), 0);
	CHECK(ei.has_pvh);
	CHECK(ei.pvh_entry >= ei.start && ei.pvh_entry < ei.end);
	CHECK(!ei.capsule_note);
	free(elf);

	struct guest_mem m;
	tf_mem(&m, 256);
	struct boot_config cfg = { .kernel_path = path, .cmdline = "console=ttyS0", .ncpus = 2 };
	struct boot_info bi;
	CHECK_EQ(boot_load(&m, &cfg, &bi, &err), 0);
	CHECK_EQ(bi.kind, BOOT_ENTRY_LINUX64);
	CHECK_EQ(bi.entry, 0x1000000);
	CHECK(strncmp(bi.format, "bzImage (", 9) == 0 && strstr(bi.format, "decompressed on host"));
	struct boot_params *bp = tf_zero_page(&m);
	CHECK_EQ(bp->hdr.header, BP_HDR_MAGIC);
	CHECK(bp->hdr.version >= 0x0208);
	CHECK_EQ(bp->hdr.type_of_loader, 0xff);
	printf("  real kernel: %s, entry 0x%llx, kernel 0x%llx-0x%llx, decompressed in %.1f ms\n", bi.format,
	       (unsigned long long)bi.entry, (unsigned long long)bi.kernel_start, (unsigned long long)bi.kernel_end,
	       bi.decompress_ms);
	guest_mem_free(&m);
}

int main(void)
{
	elf_img = tf_make_elf(&(struct tf_elf){ 0 }, &elf_len);
	RUN(test_codec_detect);
	RUN(test_every_codec);
	RUN(test_lz4_many_blocks);
	RUN(test_corrupt_payloads);
	RUN(test_truncated_payloads);
	RUN(test_lzo_and_unknown);
	RUN(test_uncompressed_payload);
	RUN(test_truncated_headers);
	RUN(test_guest_decompress);
	RUN(test_extract_elf);
	RUN(test_output_limit);
	if (real_kernel())
		RUN(test_real_kernel);
	else
		SKIP(test_real_kernel, unit_linux_missing("vmlinuz"));
	free(elf_img);
	UNIT_EXIT();
}
