/* bzImage: the real-mode setup sectors with the boot protocol header, followed by the
 * protected-mode part, which carries the compressed vmlinux (payload_offset/length, 2.08+). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loader.h"

#define SETUP_SECTS_DEFAULT 4  /* boot.rst: setup_sects 0 means 4 */
#define HDR_JUMP_OFF 0x200     /* the header ends where the jump at 0x200 lands: 0x202 + its byte */

bool bzimage_is_bzimage(const uint8_t *img, size_t len)
{
	uint32_t magic;
	if (len < 0x206)
		return false;
	memcpy(&magic, img + 0x202, 4);
	return magic == BP_HDR_MAGIC;
}

int bzimage_parse(const char *name, const uint8_t *img, size_t len, struct bzimage *bz, cap_err *err)
{
	memset(bz, 0, sizeof(*bz));
	if (!bzimage_is_bzimage(img, len))
		return cap_errf(err, 0, "kernel %s: not an ELF or bzImage kernel", name);
	if (len < 0x208)
		return cap_errf(err, 0, "kernel %s: truncated bzImage header", name);

	/* How much of the header this kernel has: up to the jump target, within the zero page's
	 * room for it and within the file. */
	size_t end = 0x202 + (size_t)img[HDR_JUMP_OFF + 1];
	if (img[HDR_JUMP_OFF] != 0xeb || end > 0x290)
		end = 0x290;
	if (end < 0x208)
		end = 0x208;
	if (end > len)
		end = len;
	bz->raw_hdr = img + BP_SETUP_HDR_OFF;
	bz->hdr_len = end - BP_SETUP_HDR_OFF;
	memcpy(&bz->hdr, bz->raw_hdr,
	       bz->hdr_len < sizeof(bz->hdr) ? bz->hdr_len : sizeof(bz->hdr));

	unsigned v = bz->hdr.version;
	if (v < 0x0200)
		return cap_errf(err, 0, "kernel %s: boot protocol %u.%02u is too old", name, v >> 8, v & 0xff);
	/* Fields a version does not define may hold anything: clear what this kernel predates. */
	if (v < 0x0203)
		bz->hdr.initrd_addr_max = BP_INITRD_ADDR_MAX_DEFAULT;
	if (v < 0x0206)
		bz->hdr.cmdline_size = 255;
	if (v < 0x020a) {
		bz->hdr.pref_address = 0;
		bz->hdr.init_size = 0;
	}
	if (v < 0x020c)
		bz->hdr.xloadflags = 0;

	size_t setup_sects = bz->hdr.setup_sects ? bz->hdr.setup_sects : SETUP_SECTS_DEFAULT;
	size_t pm_off = (setup_sects + 1) * 512;
	if (pm_off >= len)
		return cap_errf(err, 0, "kernel %s: truncated bzImage: %zu setup sectors but the file has %zu bytes",
				name, setup_sects, len);
	bz->pm = img + pm_off;
	bz->pm_len = len - pm_off;

	if (v >= 0x0208) {
		uint64_t po = bz->hdr.payload_offset, pl = bz->hdr.payload_length;
		if (po > bz->pm_len || pl > bz->pm_len - po || pl == 0)
			return cap_errf(err, 0,
					"kernel %s: truncated bzImage: payload (offset %llu, %llu bytes) is not within the file",
					name, (unsigned long long)po, (unsigned long long)pl);
		bz->payload = bz->pm + po;
		bz->payload_len = pl;
		bz->codec = boot_codec_detect(bz->payload, bz->payload_len);
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int bzimage_decompress(const char *name, const struct bzimage *bz, uint8_t **elf, size_t *elf_len, double *ms,
		       cap_err *err)
{
	*elf = NULL;
	*elf_len = 0;
	*ms = 0;
	if (!bz->payload)
		return cap_errf(err, 0,
				"kernel %s: boot protocol %u.%02u is older than 2.08 and does not locate its payload "
				"(use guest decompression)",
				name, bz->hdr.version >> 8, bz->hdr.version & 0xff);
	if (bz->codec == CODEC_UNKNOWN) {
		const uint8_t *p = bz->payload;
		return cap_errf(err, 0, "kernel %s: payload compression not recognised (magic %02x %02x %02x %02x)", name,
				p[0], bz->payload_len > 1 ? p[1] : 0, bz->payload_len > 2 ? p[2] : 0,
				bz->payload_len > 3 ? p[3] : 0);
	}
	if (bz->codec == CODEC_NONE) {
		uint8_t *copy = malloc(bz->payload_len);
		if (!copy)
			return cap_errf(err, ENOMEM, "kernel %s", name);
		memcpy(copy, bz->payload, bz->payload_len);
		*elf = copy;
		*elf_len = bz->payload_len;
		return 0;
	}
	double t0 = now_ms();
	int r = boot_decompress(name, bz->codec, bz->payload, bz->payload_len, elf, elf_len, err);
	*ms = now_ms() - t0;
	if (r < 0)
		return r;
	if (!elf_is_elf(*elf, *elf_len)) {
		free(*elf);
		*elf = NULL;
		*elf_len = 0;
		return cap_errf(err, 0, "kernel %s: the %s payload does not hold an ELF vmlinux", name,
				boot_codec_name(bz->codec));
	}
	return 0;
}
