/* Guest RAM: one memfd mapped once, exposed to KVM as up to two slots
 * (below the 32-bit MMIO hole and above 4 GiB). Every guest-physical access the
 * VMM makes goes through guest_mem_ptr(), the one checked translation. */
#ifndef CAPSULE_VMM_MEMORY_H
#define CAPSULE_VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/error.h"

/* RAM above this address is moved to 4 GiB and up; [MMIO_HOLE_START, 4 GiB) holds devices. */
#define GUEST_MMIO_HOLE_START 0xC0000000ULL
#define GUEST_MMIO_HOLE_END 0x100000000ULL

struct guest_region {
	uint64_t gpa;      /* guest-physical start */
	uint64_t size;     /* bytes */
	uint8_t *host;     /* host virtual address of gpa */
};

struct guest_mem {
	int memfd;           /* -1 when the memory is a plain buffer (unit tests, fuzzers) */
	uint8_t *base;       /* one contiguous host mapping of all RAM */
	uint64_t total;      /* bytes of RAM */
	bool fresh;          /* nothing written yet since the memfd was made: every byte is zero, so
	                        loaders need not clear BSS (touching pages costs start-up time) */
	int nregions;
	struct guest_region regions[2];
};

/* Allocate `size` bytes of guest RAM (memfd, MAP_SHARED, MAP_NORESERVE). */
int guest_mem_init(struct guest_mem *m, uint64_t size, cap_err *err);
/* Wrap an existing buffer as guest RAM at gpa 0 (tests and fuzzers). */
void guest_mem_init_buffer(struct guest_mem *m, void *buf, uint64_t size);
void guest_mem_free(struct guest_mem *m);

/* Host pointer for [gpa, gpa+len), or NULL unless the whole range lies in one RAM region.
 * len 0 is treated as 1. Never trusts the guest: overflow-safe. */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Highest usable RAM address + 1 below 4 GiB (the low region's end). */
uint64_t guest_mem_low_end(const struct guest_mem *m);

/* Copy helpers built on guest_mem_ptr(); return 0 or -EFAULT. */
int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);

#endif
