/* Host-side decompression of a bzImage payload. Each codec is the stream format the kernel's
 * build writes (arch/x86/boot/compressed/Makefile): one stream followed by the uncompressed
 * size as 4 little-endian bytes, which we use only as a first guess of the output size. */
#include <bzlib.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>
#include <zstd.h>

#include "loader.h"

size_t boot_decompress_max = 1ULL << 30;

#define HUGE_MIN (8u << 20)
#define LZMA_MEMLIMIT (256ULL << 20)   /* the kernel's xz uses a 32 MiB dictionary */
#define LZ4_LEGACY_MAGIC 0x184C2102u
#define LZ4_LEGACY_BLOCK (8u << 20)   /* legacy frames hold 8 MiB of output per block */

enum boot_codec boot_codec_detect(const uint8_t *p, size_t len)
{
	static const struct {
		enum boot_codec c;
		uint8_t n;
		uint8_t magic[6];
	} tab[] = {
		{ CODEC_NONE, 4, { 0x7f, 'E', 'L', 'F' } },
		{ CODEC_GZIP, 2, { 0x1f, 0x8b } },
		{ CODEC_BZIP2, 3, { 'B', 'Z', 'h' } },
		{ CODEC_LZMA, 3, { 0x5d, 0x00, 0x00 } },
		{ CODEC_XZ, 6, { 0xfd, '7', 'z', 'X', 'Z', 0x00 } },
		{ CODEC_LZO, 4, { 0x89, 'L', 'Z', 'O' } },
		{ CODEC_LZ4, 4, { 0x02, 0x21, 0x4c, 0x18 } },
		{ CODEC_ZSTD, 4, { 0x28, 0xb5, 0x2f, 0xfd } },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (len >= tab[i].n && memcmp(p, tab[i].magic, tab[i].n) == 0)
			return tab[i].c;
	return CODEC_UNKNOWN;
}

const char *boot_codec_name(enum boot_codec c)
{
	switch (c) {
	case CODEC_NONE: return "uncompressed";
	case CODEC_GZIP: return "gzip";
	case CODEC_BZIP2: return "bzip2";
	case CODEC_LZMA: return "lzma";
	case CODEC_XZ: return "xz";
	case CODEC_LZO: return "lzo";
	case CODEC_LZ4: return "lz4";
	case CODEC_ZSTD: return "zstd";
	default: return "unknown";
	}
}

/* Free output space each codec call gets; the buffer doubles as needed, so this only matters
 * for small outputs (a real kernel's appended size sizes the buffer up front). */
#define CHUNK (64u << 10)

struct outbuf {
	uint8_t *p;
	size_t len, cap;
	const char *name, *codec;
	cap_err *err;
};

/* Make at least `want` free bytes (fewer if that would pass the limit, but never zero). */
static int ob_reserve(struct outbuf *o, size_t want)
{
	if (o->cap - o->len >= want)
		return 0;
	if (o->cap >= boot_decompress_max) {
		if (o->cap > o->len)
			return 0;
		return cap_errf(o->err, 0, "kernel %s: %s payload decompresses to more than %zu MiB", o->name,
				o->codec, boot_decompress_max >> 20);
	}
	size_t ncap = o->cap ? o->cap : CHUNK;
	while (ncap - o->len < want && ncap < boot_decompress_max)
		ncap = ncap > boot_decompress_max / 2 ? boot_decompress_max : ncap * 2;
	if (ncap > boot_decompress_max)
		ncap = boot_decompress_max;
	uint8_t *np = realloc(o->p, ncap);
	if (!np)
		return cap_errf(o->err, ENOMEM, "kernel %s: decompressing the %s payload", o->name, o->codec);
	/* A kernel is tens of MiB written once, front to back: 2 MiB pages fault 512x less often.
	 * Advice only, on the page-aligned inside of the allocation. */
	if (ncap >= HUGE_MIN) {
		uintptr_t a = ((uintptr_t)np + 4095) & ~(uintptr_t)4095, e = ((uintptr_t)np + ncap) & ~(uintptr_t)4095;
		if (e > a)
			madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
	o->p = np;
	o->cap = ncap;
	return 0;
}

static int corrupt(struct outbuf *o, const char *why)
{
	return cap_errf(o->err, 0, "kernel %s: corrupt %s payload: %s", o->name, o->codec, why);
}

static int truncated(struct outbuf *o)
{
	return corrupt(o, "truncated (the input ends before the end of the stream)");
}

/* Codec APIs count input in unsigned int: feed at most this much per call. */
#define IN_STEP (1u << 30)

static int do_gzip(struct outbuf *o, const uint8_t *in, size_t len)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return cap_errf(o->err, ENOMEM, "kernel %s: zlib init", o->name);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)(len < IN_STEP ? len : IN_STEP);
	int r, ret = 0;
	for (;;) {
		if ((ret = ob_reserve(o, CHUNK)) < 0)
			break;
		uInt room = (uInt)((o->cap - o->len) < IN_STEP ? o->cap - o->len : IN_STEP);
		z.next_out = o->p + o->len;
		z.avail_out = room;
		r = inflate(&z, Z_NO_FLUSH);
		o->len += room - z.avail_out;
		if (r == Z_STREAM_END)
			break;
		if (r == Z_BUF_ERROR && z.avail_in == 0) {
			ret = truncated(o);
			break;
		}
		if (r != Z_OK && r != Z_BUF_ERROR) {
			ret = corrupt(o, z.msg ? z.msg : zError(r));
			break;
		}
	}
	inflateEnd(&z);
	return ret;
}

static const char *lzma_why(lzma_ret r)
{
	switch (r) {
	case LZMA_FORMAT_ERROR: return "not an xz/lzma stream";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR: return "compressed data is corrupt";
	case LZMA_BUF_ERROR: return "truncated (the input ends before the end of the stream)";
	case LZMA_MEMLIMIT_ERROR: return "needs more than 256 MiB of memory to decompress";
	case LZMA_MEM_ERROR: return "out of memory";
	default: return "decoder error";
	}
}

static int do_lzma(struct outbuf *o, const uint8_t *in, size_t len, bool xz)
{
	lzma_stream s = LZMA_STREAM_INIT;
	/* One stream only (no LZMA_CONCATENATED): the appended size must not be read as a stream. */
	lzma_ret r = xz ? lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0) : lzma_alone_decoder(&s, LZMA_MEMLIMIT);
	if (r != LZMA_OK)
		return cap_errf(o->err, ENOMEM, "kernel %s: liblzma init", o->name);
	s.next_in = in;
	s.avail_in = len;
	int ret = 0;
	for (;;) {
		if ((ret = ob_reserve(o, CHUNK)) < 0)
			break;
		size_t room = o->cap - o->len;
		s.next_out = o->p + o->len;
		s.avail_out = room;
		/* LZMA_FINISH: all input is there, so running out of it is an error, not a wait. */
		r = lzma_code(&s, LZMA_FINISH);
		o->len += room - s.avail_out;
		if (r == LZMA_STREAM_END)
			break;
		if (r == LZMA_OK)
			continue;
		if (r == LZMA_BUF_ERROR && s.avail_out == 0)
			continue;
		ret = corrupt(o, lzma_why(r));
		break;
	}
	lzma_end(&s);
	return ret;
}

static int do_bzip2(struct outbuf *o, const uint8_t *in, size_t len)
{
	bz_stream s;
	memset(&s, 0, sizeof(s));
	if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
		return cap_errf(o->err, ENOMEM, "kernel %s: libbz2 init", o->name);
	s.next_in = (char *)in;
	s.avail_in = (unsigned)(len < IN_STEP ? len : IN_STEP);
	int ret = 0;
	for (;;) {
		if ((ret = ob_reserve(o, CHUNK)) < 0)
			break;
		unsigned room = (unsigned)((o->cap - o->len) < IN_STEP ? o->cap - o->len : IN_STEP);
		s.next_out = (char *)o->p + o->len;
		s.avail_out = room;
		int r = BZ2_bzDecompress(&s);
		o->len += room - s.avail_out;
		if (r == BZ_STREAM_END)
			break;
		if (r != BZ_OK) {
			ret = corrupt(o, r == BZ_DATA_ERROR_MAGIC ? "bad magic" : "compressed data is corrupt");
			break;
		}
		if (s.avail_in == 0 && s.avail_out != 0) {
			ret = truncated(o);
			break;
		}
	}
	BZ2_bzDecompressEnd(&s);
	return ret;
}

static int do_zstd(struct outbuf *o, const uint8_t *in, size_t len)
{
	ZSTD_DStream *d = ZSTD_createDStream();
	if (!d)
		return cap_errf(o->err, ENOMEM, "kernel %s: libzstd init", o->name);
	ZSTD_inBuffer ib = { in, len, 0 };
	int ret = 0;
	for (;;) {
		if ((ret = ob_reserve(o, CHUNK)) < 0)
			break;
		ZSTD_outBuffer ob = { o->p + o->len, o->cap - o->len, 0 };
		size_t r = ZSTD_decompressStream(d, &ob, &ib);
		o->len += ob.pos;
		if (ZSTD_isError(r)) {
			ret = corrupt(o, ZSTD_getErrorName(r));
			break;
		}
		if (r == 0) /* end of the first frame */
			break;
		if (ib.pos == ib.size && ob.pos < ob.size) {
			ret = truncated(o);
			break;
		}
	}
	ZSTD_freeDStream(d);
	return ret;
}

/* lz4 "legacy" frames (lz4 -l): magic, then blocks of [le32 compressed size][data], each
 * decompressing to at most 8 MiB. The stream has no end marker: it ends with the input, or
 * with the kernel's appended 4-byte size, which we recognise as a final header that is all
 * that is left. A header equal to the magic starts a concatenated stream. */
static int do_lz4(struct outbuf *o, const uint8_t *in, size_t len)
{
	size_t off = 4;
	int ret;
	while (len - off >= 4) {
		uint32_t csize;
		memcpy(&csize, in + off, 4);
		off += 4;
		if (csize == LZ4_LEGACY_MAGIC)
			continue;
		if (csize > len - off) {
			if (off == len) /* the appended size */
				break;
			return truncated(o);
		}
		if (csize == 0 || csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return corrupt(o, "bad block size");
		if ((ret = ob_reserve(o, LZ4_LEGACY_BLOCK)) < 0)
			return ret;
		size_t room = o->cap - o->len;
		int n = LZ4_decompress_safe((const char *)in + off, (char *)o->p + o->len, (int)csize,
					    (int)(room < LZ4_LEGACY_BLOCK ? room : LZ4_LEGACY_BLOCK));
		if (n < 0)
			return corrupt(o, "compressed data is corrupt");
		o->len += (size_t)n;
		off += csize;
	}
	if (off < len && len - off < 4 && o->len == 0)
		return truncated(o);
	return 0;
}

int boot_decompress(const char *name, enum boot_codec c, const uint8_t *in, size_t len, uint8_t **out,
		    size_t *out_len, cap_err *err)
{
	struct outbuf o = { .name = name, .codec = boot_codec_name(c), .err = err };
	int ret;

	*out = NULL;
	*out_len = 0;
	/* Start from the appended size when it is plausible, so a real kernel needs one allocation. */
	if (len >= 8) {
		uint32_t hint;
		memcpy(&hint, in + len - 4, 4);
		/* Bounded by a generous ratio so a hostile trailer cannot make us allocate the limit. */
		if (hint >= len && hint / 64 <= len && hint <= boot_decompress_max - (1 << 20))
			if ((ret = ob_reserve(&o, (size_t)hint + (1 << 20))) < 0)
				return ret;
	}
	switch (c) {
	case CODEC_GZIP: ret = do_gzip(&o, in, len); break;
	case CODEC_XZ: ret = do_lzma(&o, in, len, true); break;
	case CODEC_LZMA: ret = do_lzma(&o, in, len, false); break;
	case CODEC_BZIP2: ret = do_bzip2(&o, in, len); break;
	case CODEC_ZSTD: ret = do_zstd(&o, in, len); break;
	case CODEC_LZ4: ret = do_lz4(&o, in, len); break;
	case CODEC_LZO:
		ret = cap_errf(err, 0, "kernel %s: lzo-compressed payload is unsupported (Capsule decompresses gzip, "
				       "xz, lzma, lz4, zstd and bzip2; the kernel can decompress itself in the guest)", name);
		break;
	default:
		ret = cap_errf(err, 0, "kernel %s: payload compression not recognised", name);
		break;
	}
	if (ret < 0) {
		free(o.p);
		return ret;
	}
	*out = o.p;
	*out_len = o.len;
	return 0;
}
