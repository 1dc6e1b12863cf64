/* The vmstate encoding (vmstate.h). The writer appends; the reader validates a whole section's
 * field list when it is opened, then looks fields up by name. */
#include "vmstate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SECTION_TAG 'S'

void vmstate_out_init(struct vmstate_out *out)
{
	memset(out, 0, sizeof(*out));
}

void vmstate_out_free(struct vmstate_out *out)
{
	free(out->buf);
	memset(out, 0, sizeof(*out));
}

static int fail(struct vmstate_out *out, int e)
{
	if (!out->error)
		out->error = e;
	return out->error;
}

static int put_raw(struct vmstate_out *out, const void *p, size_t n)
{
	if (out->error)
		return out->error;
	if (n > SIZE_MAX / 2 - out->len)
		return fail(out, -ENOMEM);
	if (out->len + n > out->cap) {
		size_t cap = out->cap ? out->cap : 256;
		while (cap < out->len + n)
			cap *= 2;
		uint8_t *b = realloc(out->buf, cap);
		if (!b)
			return fail(out, -ENOMEM);
		out->buf = b;
		out->cap = cap;
	}
	if (n)
		memcpy(out->buf + out->len, p, n);
	out->len += n;
	return 0;
}

static int put_le(struct vmstate_out *out, uint64_t v, unsigned bytes)
{
	uint8_t b[8];
	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return put_raw(out, b, bytes);
}

static size_t name_len(const char *name)
{
	size_t n = name ? strnlen(name, VMSTATE_NAME_MAX + 1) : 0;
	return n >= 1 && n <= VMSTATE_NAME_MAX ? n : 0;
}

static int put_name(struct vmstate_out *out, const char *name)
{
	size_t n = name_len(name);
	if (!n)
		return fail(out, -EINVAL);
	put_le(out, n, 1);
	return put_raw(out, name, n);
}

int vmstate_begin(struct vmstate_out *out, const char *section, uint32_t version)
{
	if (out->section_at)
		return fail(out, -EINVAL);
	size_t start = out->len;
	put_le(out, SECTION_TAG, 1);
	put_name(out, section);
	put_le(out, version, 4);
	size_t at = out->len;
	int r = put_le(out, 0, 4);
	if (r == 0) {
		out->section_start = start;
		out->section_at = at;
	}
	return r;
}

int vmstate_end(struct vmstate_out *out)
{
	if (out->error)
		return out->error;
	if (!out->section_at)
		return fail(out, -EINVAL);
	size_t body = out->len - out->section_at - 4;
	if (body > UINT32_MAX)
		return fail(out, -E2BIG);
	for (unsigned i = 0; i < 4; i++)
		out->buf[out->section_at + i] = (uint8_t)(body >> (8 * i));
	out->section_at = 0;
	return 0;
}

void vmstate_abort_section(struct vmstate_out *out)
{
	if (!out->section_at)
		return;
	out->len = out->section_start;
	out->section_at = 0;
}

static int put_field(struct vmstate_out *out, enum vmstate_type type, const char *name, uint64_t v, unsigned bytes)
{
	if (!out->section_at)
		return fail(out, -EINVAL);
	put_le(out, type, 1);
	put_name(out, name);
	return put_le(out, v, bytes);
}

int vmstate_put_u8(struct vmstate_out *out, const char *name, uint8_t v)
{
	return put_field(out, VMSTATE_U8, name, v, 1);
}

int vmstate_put_u16(struct vmstate_out *out, const char *name, uint16_t v)
{
	return put_field(out, VMSTATE_U16, name, v, 2);
}

int vmstate_put_u32(struct vmstate_out *out, const char *name, uint32_t v)
{
	return put_field(out, VMSTATE_U32, name, v, 4);
}

int vmstate_put_u64(struct vmstate_out *out, const char *name, uint64_t v)
{
	return put_field(out, VMSTATE_U64, name, v, 8);
}

int vmstate_put_bool(struct vmstate_out *out, const char *name, bool v)
{
	return put_field(out, VMSTATE_BOOL, name, v ? 1 : 0, 1);
}

int vmstate_put_bytes(struct vmstate_out *out, const char *name, const void *p, size_t len)
{
	if (len > VMSTATE_BYTES_MAX)
		return fail(out, -E2BIG);
	put_field(out, VMSTATE_BYTES, name, len, 4);
	return put_raw(out, p, len);
}

/* ---- reader ---- */

void vmstate_in_init(struct vmstate_in *in, const void *buf, size_t len)
{
	memset(in, 0, sizeof(*in));
	in->buf = buf;
	in->len = len;
}

static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static unsigned fixed_size(uint8_t type)
{
	switch (type) {
	case VMSTATE_U8:
	case VMSTATE_BOOL:
		return 1;
	case VMSTATE_U16:
		return 2;
	case VMSTATE_U32:
		return 4;
	case VMSTATE_U64:
		return 8;
	default:
		return 0;
	}
}

/* One field at p (n bytes left): its type, name and value. Returns its total size or 0 if
 * malformed. */
struct field {
	uint8_t type;
	const uint8_t *name;
	size_t name_len;
	const uint8_t *value;
	size_t value_len;
};

static size_t parse_field(const uint8_t *p, size_t n, struct field *f)
{
	if (n < 2)
		return 0;
	f->type = p[0];
	f->name_len = p[1];
	if (f->name_len < 1 || f->name_len > VMSTATE_NAME_MAX || n - 2 < f->name_len)
		return 0;
	f->name = p + 2;
	size_t at = 2 + f->name_len;
	unsigned fs = fixed_size(f->type);
	if (fs) {
		if (n - at < fs)
			return 0;
		f->value = p + at;
		f->value_len = fs;
		return at + fs;
	}
	if (f->type != VMSTATE_BYTES || n - at < 4)
		return 0;
	uint64_t len = get_le(p + at, 4);
	at += 4;
	if (len > VMSTATE_BYTES_MAX || n - at < len)
		return 0;
	f->value = p + at;
	f->value_len = (size_t)len;
	return at + (size_t)len;
}

/* The section at *pos: fills name/version/body and advances *pos; 0, or -EINVAL. */
static int parse_section(const struct vmstate_in *in, size_t *pos, const uint8_t **name, size_t *nlen,
			 uint32_t *version, const uint8_t **body, size_t *body_len)
{
	size_t at = *pos, n = in->len;
	if (n - at < 2 || in->buf[at] != SECTION_TAG)
		return -EINVAL;
	*nlen = in->buf[at + 1];
	if (*nlen < 1 || *nlen > VMSTATE_NAME_MAX || n - at - 2 < *nlen + 8)
		return -EINVAL;
	*name = in->buf + at + 2;
	at += 2 + *nlen;
	*version = (uint32_t)get_le(in->buf + at, 4);
	uint64_t blen = get_le(in->buf + at + 4, 4);
	at += 8;
	if (n - at < blen)
		return -EINVAL;
	*body = in->buf + at;
	*body_len = (size_t)blen;
	*pos = at + (size_t)blen;
	/* Every field must parse and fill the body exactly. */
	struct field f;
	for (size_t off = 0; off < *body_len;) {
		size_t s = parse_field(*body + off, *body_len - off, &f);
		if (!s)
			return -EINVAL;
		off += s;
	}
	return 0;
}

static void open_section(struct vmstate_in *in, const uint8_t *name, size_t nlen, uint32_t version,
			 const uint8_t *body, size_t body_len)
{
	memcpy(in->section, name, nlen);
	in->section[nlen] = 0;
	in->version = version;
	in->body = body;
	in->body_len = body_len;
}

int vmstate_next(struct vmstate_in *in, size_t *pos)
{
	const uint8_t *name, *body;
	size_t nlen, blen;
	uint32_t version;

	if (*pos >= in->len)
		return 0;
	int r = parse_section(in, pos, &name, &nlen, &version, &body, &blen);
	if (r < 0)
		return r;
	open_section(in, name, nlen, version, body, blen);
	return 1;
}

int vmstate_open(struct vmstate_in *in, const char *section, uint32_t *version)
{
	size_t want = name_len(section);
	if (!want)
		return -EINVAL;
	for (size_t pos = 0; pos < in->len;) {
		const uint8_t *name, *body;
		size_t nlen, blen;
		uint32_t ver;
		int r = parse_section(in, &pos, &name, &nlen, &ver, &body, &blen);
		if (r < 0)
			return r;
		if (nlen == want && !memcmp(name, section, nlen)) {
			open_section(in, name, nlen, ver, body, blen);
			if (version)
				*version = ver;
			return 0;
		}
	}
	return -ENOENT;
}

static int find(const struct vmstate_in *in, const char *name, uint8_t type, struct field *out)
{
	size_t want = name_len(name);
	if (!in->body || !want)
		return -EINVAL;
	struct field f;
	for (size_t off = 0; off < in->body_len;) {
		size_t s = parse_field(in->body + off, in->body_len - off, &f);
		if (!s)
			return -EINVAL;
		off += s;
		if (f.name_len == want && !memcmp(f.name, name, want)) {
			if (f.type != type)
				return -EINVAL;
			*out = f;
			return 0;
		}
	}
	return -ENOENT;
}

static int get_fixed(const struct vmstate_in *in, const char *name, uint8_t type, uint64_t *v)
{
	struct field f;
	int r = find(in, name, type, &f);
	if (r < 0)
		return r;
	*v = get_le(f.value, (unsigned)f.value_len);
	return 0;
}

int vmstate_get_u8(const struct vmstate_in *in, const char *name, uint8_t *v)
{
	uint64_t x;
	int r = get_fixed(in, name, VMSTATE_U8, &x);
	if (r == 0)
		*v = (uint8_t)x;
	return r;
}

int vmstate_get_u16(const struct vmstate_in *in, const char *name, uint16_t *v)
{
	uint64_t x;
	int r = get_fixed(in, name, VMSTATE_U16, &x);
	if (r == 0)
		*v = (uint16_t)x;
	return r;
}

int vmstate_get_u32(const struct vmstate_in *in, const char *name, uint32_t *v)
{
	uint64_t x;
	int r = get_fixed(in, name, VMSTATE_U32, &x);
	if (r == 0)
		*v = (uint32_t)x;
	return r;
}

int vmstate_get_u64(const struct vmstate_in *in, const char *name, uint64_t *v)
{
	return get_fixed(in, name, VMSTATE_U64, v);
}

int vmstate_get_bool(const struct vmstate_in *in, const char *name, bool *v)
{
	uint64_t x;
	int r = get_fixed(in, name, VMSTATE_BOOL, &x);
	if (r < 0)
		return r;
	if (x > 1)
		return -EINVAL;
	*v = x == 1;
	return 0;
}

int vmstate_get_bytes(const struct vmstate_in *in, const char *name, void *dst, size_t cap, size_t *len)
{
	struct field f;
	int r = find(in, name, VMSTATE_BYTES, &f);
	if (r < 0)
		return r;
	if (f.value_len > cap)
		return -EINVAL;
	if (f.value_len)
		memcpy(dst, f.value, f.value_len);
	if (len)
		*len = f.value_len;
	return 0;
}
