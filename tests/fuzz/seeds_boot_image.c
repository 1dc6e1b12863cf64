/* Writes the seed corpus of fuzz_boot_image into the directory argv[1]: small ELF kernels
 * (plain, test guest, PVH) and bzImages around one with every payload codec, each prefixed
 * with the fuzz target's option byte. Built by tests/fuzz/run with the target's sources. */
#include <stdio.h>

#include "../unit/test_boot_fixtures.h"

static void put(const char *dir, const char *name, uint8_t opts, const uint8_t *img, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputc(opts, f);
	fwrite(img, 1, len, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	/* small segments at 1 MiB keep every seed under a few KiB */
	struct tf_elf base = { .paddr = 0x100000, .filesz = 512, .memsz = 4096 };
	size_t len;
	uint8_t *elf = tf_make_elf(&base, &len);
	put(argv[1], "elf", 0x04, elf, len);
	struct tf_elf tg = base;
	tg.capsule_note = true;
	uint8_t *g = tf_make_elf(&tg, &len);
	put(argv[1], "test-guest", 0x00, g, len);
	free(g);
	struct tf_elf pvh = base;
	pvh.pvh_note = true;
	pvh.pvh_entry = 0x100010;
	g = tf_make_elf(&pvh, &len);
	put(argv[1], "pvh", 0x02, g, len);
	free(g);

	size_t elf_len;
	free(elf);
	elf = tf_make_elf(&base, &elf_len);
	static const enum boot_codec codecs[] = { CODEC_NONE, CODEC_GZIP, CODEC_XZ, CODEC_LZMA,
						  CODEC_LZ4, CODEC_ZSTD, CODEC_BZIP2, CODEC_LZO };
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		size_t plen, blen;
		uint8_t *pl = tf_compress(codecs[i], elf, elf_len, &plen);
		uint8_t *bz = tf_make_bzimage(pl, plen, &(struct tf_bz){ .init_size = 4 << 20 }, &blen);
		char name[64];
		snprintf(name, sizeof(name), "bzimage-%s", boot_codec_name(codecs[i]));
		put(argv[1], name, 0x08, bz, blen);
		snprintf(name, sizeof(name), "bzimage-%s-guest", boot_codec_name(codecs[i]));
		put(argv[1], name, 0x01, bz, blen);
		free(bz);
		free(pl);
	}
	free(elf);
	return 0;
}
