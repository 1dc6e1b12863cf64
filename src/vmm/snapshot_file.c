/* The state file's envelope (snapshot_file.h). Every length is checked before it is used: the
 * file may be truncated, corrupted or written by someone hostile. */
#include "snapshot_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "vmstate.h"

static uint32_t crc(const uint8_t *p, size_t n)
{
	uLong c = crc32(0L, Z_NULL, 0);
	/* zlib takes uInt lengths: feed it in pieces */
	while (n) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		c = crc32(c, p, k);
		p += k;
		n -= k;
	}
	return (uint32_t)c;
}

int snapshot_file_build(uint32_t flags, uint64_t mem_bytes, const uint8_t *body, size_t body_len, uint8_t **out,
			size_t *out_len)
{
	struct vmstate_in in;
	size_t pos = 0, n = 0;
	int r;
	vmstate_in_init(&in, body, body_len);
	while ((r = vmstate_next(&in, &pos)) == 1)
		n++;
	if (r < 0)
		return r;
	if (n > SNAPSHOT_MAX_SECTIONS)
		return -E2BIG;
	size_t table = n * SNAPSHOT_ENTRY_SIZE, total = SNAPSHOT_HEADER_SIZE + table + body_len;
	uint8_t *f = calloc(1, total);
	if (!f)
		return -ENOMEM;
	uint8_t *t = f + SNAPSHOT_HEADER_SIZE;
	pos = 0;
	vmstate_in_init(&in, body, body_len);
	for (size_t i = 0, start = 0; vmstate_next(&in, &pos) == 1; i++, start = pos) {
		uint8_t *e = t + i * SNAPSHOT_ENTRY_SIZE;
		memcpy(e, in.section, strnlen(in.section, SNAPSHOT_ENTRY_NAME - 1));
		snap_put_le64(e + 64, start);
		snap_put_le64(e + 72, pos - start);
		snap_put_le32(e + 80, crc(body + start, pos - start));
	}
	memcpy(f, SNAPSHOT_MAGIC, 8);
	snap_put_le32(f + 8, SNAPSHOT_FORMAT_VERSION);
	snap_put_le32(f + 12, flags);
	snap_put_le64(f + 16, mem_bytes);
	snap_put_le64(f + 24, body_len);
	snap_put_le32(f + 32, (uint32_t)n);
	snap_put_le32(f + 36, crc(t, table));
	snap_put_le32(f + 40, crc(f, 40));
	memcpy(t + table, body, body_len);
	*out = f;
	*out_len = total;
	return 0;
}

/* A table entry's name, checked: 1..63 printable bytes, NUL-padded. */
static int entry_name(const uint8_t *e, char *name)
{
	size_t n = strnlen((const char *)e, SNAPSHOT_ENTRY_NAME);
	if (n == 0 || n == SNAPSHOT_ENTRY_NAME)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (e[i] < 0x21 || e[i] > 0x7e)
			return -1;
	for (size_t i = n; i < SNAPSHOT_ENTRY_NAME; i++)
		if (e[i])
			return -1;
	memcpy(name, e, n + 1);
	return 0;
}

int snapshot_file_check(const uint8_t *buf, size_t len, struct snapshot_header *h, const uint8_t **body,
			cap_err *err)
{
	if (len < 12)
		return cap_errf(err, 0, "truncated: %zu bytes, shorter than the %d-byte header", len,
				SNAPSHOT_HEADER_SIZE);
	if (memcmp(buf, SNAPSHOT_MAGIC, 8) != 0)
		return cap_errf(err, 0, "not a Capsule snapshot state file (bad magic)");
	/* The version first: a later version may lay out everything after it differently. */
	h->version = snap_le32(buf + 8);
	if (h->version != SNAPSHOT_FORMAT_VERSION)
		return cap_errf(err, 0, "format version %u, this capsule reads version %u", h->version,
				SNAPSHOT_FORMAT_VERSION);
	if (len < SNAPSHOT_HEADER_SIZE)
		return cap_errf(err, 0, "truncated: %zu bytes, shorter than the %d-byte header", len,
				SNAPSHOT_HEADER_SIZE);
	if (snap_le32(buf + 40) != crc(buf, 40) || snap_le32(buf + 44) != 0)
		return cap_errf(err, 0, "corrupted: the header checksum does not match");
	h->flags = snap_le32(buf + 12);
	h->mem_bytes = snap_le64(buf + 16);
	h->body_len = snap_le64(buf + 24);
	h->nsections = snap_le32(buf + 32);
	if (h->flags & ~SNAPSHOT_KNOWN_FLAGS)
		return cap_errf(err, 0, "unknown flags 0x%x (written by a newer capsule?)", h->flags & ~SNAPSHOT_KNOWN_FLAGS);
	if (h->mem_bytes == 0 || h->mem_bytes % 4096)
		return cap_errf(err, 0, "corrupted: memory size %llu is not a whole number of pages",
				(unsigned long long)h->mem_bytes);
	if (h->nsections == 0 || h->nsections > SNAPSHOT_MAX_SECTIONS)
		return cap_errf(err, 0, "corrupted: %u sections", h->nsections);
	size_t table = (size_t)h->nsections * SNAPSHOT_ENTRY_SIZE, rest = len - SNAPSHOT_HEADER_SIZE;
	if (rest < table || h->body_len != rest - table)
		return cap_errf(err, 0, "%s: the header promises %llu bytes of sections and state, the file has %zu",
				rest < table || h->body_len > rest - table ? "truncated" : "trailing data",
				(unsigned long long)(table + h->body_len), rest);
	const uint8_t *t = buf + SNAPSHOT_HEADER_SIZE, *b = t + table;
	if (snap_le32(buf + 36) != crc(t, table))
		return cap_errf(err, 0, "corrupted: the section table's checksum does not match");

	uint64_t at = 0;
	struct vmstate_in in;
	vmstate_in_init(&in, b, (size_t)h->body_len);
	for (uint32_t i = 0; i < h->nsections; i++) {
		const uint8_t *e = t + (size_t)i * SNAPSHOT_ENTRY_SIZE;
		char name[SNAPSHOT_ENTRY_NAME];
		if (entry_name(e, name) < 0 || snap_le32(e + 84) != 0)
			return cap_errf(err, 0, "corrupted: section %u's table entry is malformed", i + 1);
		uint64_t off = snap_le64(e + 64), n = snap_le64(e + 72);
		/* back to back, in order: nothing unchecked between or after them */
		if (off != at || n == 0 || n > h->body_len - at)
			return cap_errf(err, 0, "corrupted: section %s lies outside the state", name);
		if (crc(b + off, (size_t)n) != snap_le32(e + 80))
			return cap_errf(err, 0, "section %s is corrupted: its checksum does not match", name);
		size_t pos = (size_t)off;
		if (vmstate_next(&in, &pos) != 1 || pos != off + n || strcmp(in.section, name))
			return cap_errf(err, 0, "section %s is malformed", name);
		at = off + n;
	}
	if (at != h->body_len)
		return cap_errf(err, 0, "corrupted: %llu bytes of state belong to no section",
				(unsigned long long)(h->body_len - at));
	*body = b;
	return 0;
}
