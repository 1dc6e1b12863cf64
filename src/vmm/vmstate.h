/* Device state as named, typed fields in versioned sections: what a device's save op writes and
 * its restore op reads, never a raw struct. The snapshot format (issue 9) wraps a stream of
 * sections in a file with a magic, a format version and checksums; this layer is only the
 * self-describing body, so a reader can skip unknown sections and find fields in any order.
 *
 * Encoding, all integers little-endian:
 *   section := 'S' u8 name_len name[name_len] u32 version u32 body_len body[body_len]
 *   field   := u8 type u8 name_len name[name_len] value
 *   value   := u8 | u16 | u32 | u64 (by type)  |  u32 len bytes[len] (VMSTATE_BYTES)
 * Names are 1..VMSTATE_NAME_MAX bytes. The reader checks every length against the buffer, so a
 * hostile or truncated stream is refused with -EINVAL, never read past. */
#ifndef CAPSULE_VMM_VMSTATE_H
#define CAPSULE_VMM_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMSTATE_NAME_MAX 63
#define VMSTATE_BYTES_MAX (64u << 20)	/* one field's bytes; guest RAM is not device state */

enum vmstate_type {
	VMSTATE_U8 = 1,
	VMSTATE_U16 = 2,
	VMSTATE_U32 = 3,
	VMSTATE_U64 = 4,
	VMSTATE_BOOL = 5,	/* one byte, 0 or 1 */
	VMSTATE_BYTES = 6,
};

/* Writer: a growing buffer. Errors are sticky: after the first failure every call returns it,
 * so a save op may write all its fields and check the last return value (or vmstate_end's). */
struct vmstate_out {
	uint8_t *buf;
	size_t len, cap;
	size_t section_start;	/* offset of the open section's tag */
	size_t section_at;	/* offset of the open section's body_len field, 0 if none */
	int error;		/* first failure, 0 if none */
};

void vmstate_out_init(struct vmstate_out *out);
void vmstate_out_free(struct vmstate_out *out);
/* Open a section; -EINVAL for a bad name or one already open. */
int vmstate_begin(struct vmstate_out *out, const char *section, uint32_t version);
/* Close the open section (fixes its length). */
int vmstate_end(struct vmstate_out *out);
/* Drop the open section and everything written into it (a device that cannot save). */
void vmstate_abort_section(struct vmstate_out *out);
int vmstate_put_u8(struct vmstate_out *out, const char *name, uint8_t v);
int vmstate_put_u16(struct vmstate_out *out, const char *name, uint16_t v);
int vmstate_put_u32(struct vmstate_out *out, const char *name, uint32_t v);
int vmstate_put_u64(struct vmstate_out *out, const char *name, uint64_t v);
int vmstate_put_bool(struct vmstate_out *out, const char *name, bool v);
int vmstate_put_bytes(struct vmstate_out *out, const char *name, const void *p, size_t len);

/* Reader over a buffer the caller keeps alive. One section is open at a time. */
struct vmstate_in {
	const uint8_t *buf;
	size_t len;
	const uint8_t *body;	/* the open section's fields */
	size_t body_len;
	uint32_t version;	/* the open section's version */
	char section[VMSTATE_NAME_MAX + 1];
};

void vmstate_in_init(struct vmstate_in *in, const void *buf, size_t len);
/* Open the section called name: 0, -ENOENT when absent, -EINVAL when the stream or the
 * section's fields are malformed. *version (if not NULL) gets its version. */
int vmstate_open(struct vmstate_in *in, const char *section, uint32_t *version);
/* Walk sections in order: *pos starts at 0; returns 1 and opens the next one, 0 at the end,
 * -EINVAL on a malformed stream. */
int vmstate_next(struct vmstate_in *in, size_t *pos);
/* A field of the open section: 0; -ENOENT when absent; -EINVAL when it has another type, no
 * section is open, or (bool) its byte is not 0 or 1. */
int vmstate_get_u8(const struct vmstate_in *in, const char *name, uint8_t *v);
int vmstate_get_u16(const struct vmstate_in *in, const char *name, uint16_t *v);
int vmstate_get_u32(const struct vmstate_in *in, const char *name, uint32_t *v);
int vmstate_get_u64(const struct vmstate_in *in, const char *name, uint64_t *v);
int vmstate_get_bool(const struct vmstate_in *in, const char *name, bool *v);
/* Copies at most cap bytes; -EINVAL when the field is longer than cap. *len gets its length. */
int vmstate_get_bytes(const struct vmstate_in *in, const char *name, void *dst, size_t cap, size_t *len);

#endif
