/* The snapshot state file's envelope (docs/snapshot.md), format version 1:
 *
 *   header (48 bytes)   "CAPSNAPS", u32 format version, u32 flags, u64 guest memory bytes,
 *                       u64 body bytes, u32 sections, u32 CRC-32 of the section table,
 *                       u32 CRC-32 of the header's first 40 bytes, u32 reserved (0)
 *   section table       per section: name[64] (NUL-padded), u64 offset in the body,
 *                       u64 length, u32 CRC-32 of those bytes, u32 reserved (0)
 *   body                the vmstate sections (vmstate.h), back to back, in table order
 *
 * All integers little-endian. Every section has its own checksum, so a damaged file is refused
 * with the name of the section that is damaged. Pure code over buffers, so the parser is fuzzed
 * (tests/fuzz/fuzz_snapshot.c). */
#ifndef CAPSULE_VMM_SNAPSHOT_FILE_H
#define CAPSULE_VMM_SNAPSHOT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/error.h"

#define SNAPSHOT_MAGIC "CAPSNAPS"
#define SNAPSHOT_FORMAT_VERSION 1u
#define SNAPSHOT_HEADER_SIZE 48
#define SNAPSHOT_ENTRY_SIZE 88
#define SNAPSHOT_ENTRY_NAME 64
#define SNAPSHOT_MAX_SECTIONS 512
#define SNAPSHOT_FLAG_DIFF 1u		/* the memory file written with this state is a diff */
#define SNAPSHOT_KNOWN_FLAGS SNAPSHOT_FLAG_DIFF
/* A state file is vCPU and device state, never guest RAM: bound what a reader will load. */
#define SNAPSHOT_STATE_MAX (64u << 20)

struct snapshot_header {
	uint32_t version;
	uint32_t flags;
	uint64_t mem_bytes;
	uint64_t body_len;
	uint32_t nsections;
};

/* The whole file for a body of vmstate sections: *out malloc'd, *out_len bytes. 0 or -errno. */
int snapshot_file_build(uint32_t flags, uint64_t mem_bytes, const uint8_t *body, size_t body_len, uint8_t **out,
			size_t *out_len);

/* Check a whole state file in buf: magic, version, header checksum, flags, sizes, the section
 * table's checksum, every section's place, name and checksum, and that each is a well-formed
 * vmstate section. 0 with *h filled and *body set to the body; or -EINVAL/-EPROTO with err
 * saying what is wrong (the caller prefixes the file's name). */
int snapshot_file_check(const uint8_t *buf, size_t len, struct snapshot_header *h, const uint8_t **body,
			cap_err *err);

/* Little-endian helpers for the packed tables inside fields (MSRs, CPUID, XCRs). */
static inline void snap_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void snap_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t snap_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t snap_le64(const uint8_t *p)
{
	return (uint64_t)snap_le32(p) | (uint64_t)snap_le32(p + 4) << 32;
}

#endif
