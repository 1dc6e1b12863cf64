/* Guest RAM: one memfd mapped once, exposed to KVM as up to two slots
 * (below the 32-bit MMIO hole and above 4 GiB). Every guest-physical access the
 * VMM makes goes through guest_mem_ptr(), the one checked translation. */
#ifndef CAPSULE_VMM_MEMORY_H
#define CAPSULE_VMM_MEMORY_H

#include <stdatomic.h>
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
	bool cow;            /* RAM is a MAP_PRIVATE mapping of a snapshot's memory file (restore):
	                        the memfd holds none of it */
	int cow_fd;          /* that file (kept open: where it has data tells a snapshot where to look) */
	int nregions;
	struct guest_region regions[2];
	/* Pages the VMM itself wrote (virtio used rings, device-writable buffers), one bit per page
	 * of the mapping, while a snapshot tracks dirty pages: KVM's dirty log sees only the
	 * guest's own writes. NULL when not tracking. */
	_Atomic(uint64_t) *_Atomic vmm_dirty;
};

/* Allocate `size` bytes of guest RAM (memfd, MAP_SHARED, MAP_NORESERVE). */
int guest_mem_init(struct guest_mem *m, uint64_t size, cap_err *err);
/* Wrap an existing buffer as guest RAM at gpa 0 (tests and fuzzers). */
void guest_mem_init_buffer(struct guest_mem *m, void *buf, uint64_t size);
void guest_mem_free(struct guest_mem *m);
/* Replace the RAM of a guest_mem_init'ed m, in place (KVM's slots keep their addresses), with a
 * copy-on-write mapping of fd, which must hold m->total bytes: pages come in on first touch,
 * writes stay private. fd may be closed afterwards. */
int guest_mem_map_file(struct guest_mem *m, int fd, cap_err *err);

/* Start recording the pages the VMM writes (0 or -ENOMEM); guest_mem_free releases the map. */
int guest_mem_track_vmm_writes(struct guest_mem *m);
/* The VMM will write [p, p+len) (a host pointer into RAM, from guest_mem_ptr): record its pages
 * when tracking. Cheap when not. */
void guest_mem_mark_dirty(const struct guest_mem *m, const void *p, uint64_t len);
/* Is page (offset / 4096 in the mapping) marked; clears its bit. */
bool guest_mem_take_dirty(const struct guest_mem *m, uint64_t page);
/* Clear every mark (a full snapshot is the new base). */
void guest_mem_clear_dirty(const struct guest_mem *m);

/* Host pointer for [gpa, gpa+len), or NULL unless the whole range lies in one RAM region.
 * len 0 is treated as 1. Never trusts the guest: overflow-safe. */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Highest usable RAM address + 1 below 4 GiB (the low region's end). */
uint64_t guest_mem_low_end(const struct guest_mem *m);

/* Copy helpers built on guest_mem_ptr(); return 0 or -EFAULT. */
int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);
int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len);

#endif
