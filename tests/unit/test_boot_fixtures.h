/* Synthetic kernels for the boot loader's unit tests: a small ELF64 "vmlinux", optional
 * Capsule/PVH notes, each codec's payload stream as the kernel build writes it (stream +
 * 4-byte little-endian uncompressed size), and a bzImage around it. */
#ifndef CAPSULE_TESTS_BOOT_FIXTURES_H
#define CAPSULE_TESTS_BOOT_FIXTURES_H

#include <bzlib.h>
#include <elf.h>
#include <fcntl.h>
#include <lz4.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../../src/vmm/boot/boot.h"
#include "../../src/vmm/boot/layout.h"
#include "../../src/vmm/boot/loader.h"

#define TF_MIB (1ULL << 20)

struct tf_elf {
	uint64_t paddr;       /* default 16 MiB */
	size_t filesz, memsz; /* default 64 KiB / 96 KiB */
	uint64_t entry;       /* default paddr */
	bool capsule_note, pvh_note;
	uint32_t pvh_entry;
};

/* Mildly compressible, position-dependent content, so a wrong offset shows. */
static inline uint8_t tf_byte(size_t i)
{
	return (uint8_t)((i % 251) ^ (i / 4096) ^ ((i & 64) ? 0x5a : 0));
}

static inline void tf_put_note(uint8_t **p, const char *name, uint32_t namesz, uint32_t type, uint32_t desc)
{
	uint32_t h[3] = { namesz, 4, type };
	memcpy(*p, h, 12);
	*p += 12;
	memset(*p, 0, (namesz + 3) & ~3u);
	memcpy(*p, name, namesz);
	*p += (namesz + 3) & ~3u;
	memcpy(*p, &desc, 4);
	*p += 4;
}

static inline uint8_t *tf_make_elf(const struct tf_elf *in, size_t *len)
{
	struct tf_elf o = *in;
	if (!o.paddr)
		o.paddr = 16 * TF_MIB;
	if (!o.filesz)
		o.filesz = 64 << 10;
	if (!o.memsz)
		o.memsz = o.filesz + (32 << 10);
	if (!o.entry)
		o.entry = o.paddr;
	const size_t data_off = 0x1000;
	*len = data_off + o.filesz;
	uint8_t *b = calloc(1, *len);
	Elf64_Ehdr eh = { 0 };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = o.entry;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	memcpy(b, &eh, sizeof(eh));

	uint8_t *notes = b + sizeof(eh) + 2 * sizeof(Elf64_Phdr), *p = notes;
	if (o.capsule_note)
		tf_put_note(&p, "Capsule", 8, 1, 1);
	if (o.pvh_note)
		tf_put_note(&p, "Xen", 4, 18, o.pvh_entry);
	Elf64_Phdr ph[2] = {
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = data_off, .p_vaddr = 0xffffffff81000000ULL,
		  .p_paddr = o.paddr, .p_filesz = o.filesz, .p_memsz = o.memsz, .p_align = 0x200000 },
		{ .p_type = PT_NOTE, .p_offset = (uint64_t)(notes - b), .p_filesz = (uint64_t)(p - notes), .p_align = 4 },
	};
	memcpy(b + sizeof(eh), ph, sizeof(ph));
	for (size_t i = 0; i < o.filesz; i++)
		b[data_off + i] = tf_byte(i);
	return b;
}

static inline void tf_append_size(uint8_t *out, size_t *olen, size_t ilen)
{
	uint32_t s = (uint32_t)ilen;
	memcpy(out + *olen, &s, 4);
	*olen += 4;
}

/* Compress in with codec c as the kernel's build does; NULL for codecs we cannot make. */
static inline uint8_t *tf_compress(enum boot_codec c, const uint8_t *in, size_t len, size_t *olen)
{
	size_t cap = len + len / 2 + (1 << 20);
	uint8_t *out = malloc(cap);
	*olen = 0;
	switch (c) {
	case CODEC_GZIP: {
		z_stream z = { 0 };
		deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
		z.next_in = (Bytef *)in;
		z.avail_in = (uInt)len;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		if (deflate(&z, Z_FINISH) != Z_STREAM_END)
			goto fail;
		*olen = z.total_out;
		deflateEnd(&z);
		break;
	}
	case CODEC_XZ:
		if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, olen, cap) != LZMA_OK)
			goto fail;
		break;
	case CODEC_LZMA: {
		lzma_options_lzma opt;
		lzma_stream s = LZMA_STREAM_INIT;
		lzma_lzma_preset(&opt, 6);
		if (lzma_alone_encoder(&s, &opt) != LZMA_OK)
			goto fail;
		s.next_in = in;
		s.avail_in = len;
		s.next_out = out;
		s.avail_out = cap;
		lzma_ret r;
		while ((r = lzma_code(&s, LZMA_FINISH)) == LZMA_OK)
			;
		*olen = s.total_out;
		lzma_end(&s);
		if (r != LZMA_STREAM_END)
			goto fail;
		break;
	}
	case CODEC_BZIP2: {
		unsigned int n = (unsigned int)cap;
		if (BZ2_bzBuffToBuffCompress((char *)out, &n, (char *)in, (unsigned)len, 9, 0, 0) != BZ_OK)
			goto fail;
		*olen = n;
		break;
	}
	case CODEC_ZSTD: {
		ZSTD_CCtx *z = ZSTD_createCCtx();
		ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
		size_t n = ZSTD_compress2(z, out, cap, in, len);
		ZSTD_freeCCtx(z);
		if (ZSTD_isError(n))
			goto fail;
		*olen = n;
		break;
	}
	case CODEC_LZ4: {
		uint32_t magic = 0x184C2102;
		memcpy(out, &magic, 4);
		*olen = 4;
		for (size_t off = 0; off < len; off += 8 << 20) {
			size_t n = len - off < (8 << 20) ? len - off : (8 << 20);
			int c4 = LZ4_compress_default((const char *)in + off, (char *)out + *olen + 4, (int)n,
						      (int)(cap - *olen - 4));
			if (c4 <= 0)
				goto fail;
			uint32_t cs = (uint32_t)c4;
			memcpy(out + *olen, &cs, 4);
			*olen += 4 + (size_t)c4;
		}
		break;
	}
	case CODEC_LZO: /* only the magic: enough to be recognised and refused */
		memcpy(out, "\x89LZO\0\r\n\x1a\n", 9);
		*olen = 9;
		break;
	case CODEC_NONE:
		memcpy(out, in, len);
		*olen = len;
		break;
	default:
		goto fail;
	}
	if (c != CODEC_NONE)
		tf_append_size(out, olen, len);
	return out;
fail:
	free(out);
	return NULL;
}

struct tf_bz {
	uint16_t version;         /* default 0x020f */
	uint32_t initrd_addr_max; /* default 0x7fffffff */
	uint32_t cmdline_size;    /* default 2047 */
	uint64_t pref_address;    /* default 16 MiB */
	uint32_t init_size;       /* default 20 MiB */
	uint16_t xloadflags;      /* default 0x7f */
};

#define TF_BZ_SETUP_SECTS 4
#define TF_BZ_PM_OFF ((TF_BZ_SETUP_SECTS + 1) * 512)
#define TF_BZ_PAYLOAD_OFF 0x400 /* payload_offset: after a fake decompressor stub */

static inline uint8_t *tf_make_bzimage(const uint8_t *payload, size_t plen, const struct tf_bz *in, size_t *len)
{
	struct tf_bz o = *in;
	if (!o.version)
		o.version = 0x020f;
	if (!o.initrd_addr_max)
		o.initrd_addr_max = 0x7fffffff;
	if (!o.cmdline_size)
		o.cmdline_size = 2047;
	if (!o.pref_address)
		o.pref_address = 16 * TF_MIB;
	if (!o.init_size)
		o.init_size = 20 * TF_MIB;
	if (!o.xloadflags)
		o.xloadflags = 0x7f;
	*len = TF_BZ_PM_OFF + TF_BZ_PAYLOAD_OFF + plen;
	uint8_t *b = calloc(1, *len);
	struct setup_header h = { 0 };
	h.setup_sects = TF_BZ_SETUP_SECTS;
	h.boot_flag = 0xAA55;
	h.jump = 0x6aeb; /* eb 6a: jmp to 0x26c, the end of a 2.15 header */
	h.header = BP_HDR_MAGIC;
	h.version = o.version;
	h.loadflags = BP_LOADED_HIGH;
	h.code32_start = 0x100000;
	h.initrd_addr_max = o.initrd_addr_max;
	h.kernel_alignment = 0x200000;
	h.relocatable_kernel = 1;
	h.xloadflags = o.xloadflags;
	h.cmdline_size = o.cmdline_size;
	h.payload_offset = TF_BZ_PAYLOAD_OFF;
	h.payload_length = (uint32_t)plen;
	h.pref_address = o.pref_address;
	h.init_size = o.init_size;
	memcpy(b + BP_SETUP_HDR_OFF, &h, sizeof(h));
	for (size_t i = 0; i < TF_BZ_PAYLOAD_OFF; i++)
		b[TF_BZ_PM_OFF + i] = (uint8_t)(0x90 + (i & 7)); /* recognisable "decompressor" bytes */
	memcpy(b + TF_BZ_PM_OFF + TF_BZ_PAYLOAD_OFF, payload, plen);
	return b;
}

/* Write buf to a fresh temporary file; returns its path (static storage per slot). */
static inline const char *tf_tmpfile(int slot, const void *buf, size_t len)
{
	static char paths[4][64];
	snprintf(paths[slot], sizeof(paths[slot]), "/tmp/capsule-test-boot-XXXXXX");
	int fd = mkstemp(paths[slot]);
	if (fd < 0)
		return NULL;
	if (len && write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return NULL;
	}
	close(fd);
	return paths[slot];
}

/* Guest RAM for a test: memfd-backed, so untouched pages cost nothing. */
static inline void tf_mem(struct guest_mem *m, uint64_t mib)
{
	cap_err err = { 0 };
	if (guest_mem_init(m, mib * TF_MIB, &err) < 0) {
		fprintf(stderr, "guest_mem_init: %s\n", err.msg);
		exit(1);
	}
}

static inline struct boot_params *tf_zero_page(struct guest_mem *m)
{
	return guest_mem_ptr(m, BOOT_ZERO_PAGE_ADDR, sizeof(struct boot_params));
}

#endif
