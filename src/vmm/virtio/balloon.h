/* virtio-balloon parsing, exposed for unit tests and the fuzzer, and the host-side controls. */
#ifndef CAPSULE_VMM_VIRTIO_BALLOON_H
#define CAPSULE_VMM_VIRTIO_BALLOON_H

#include <linux/virtio_balloon.h>
#include <stdint.h>

#include "../memory.h"
#include "queue.h"

struct virtio_mmio;

/* Longest PFN array one inflate/deflate request may carry. Linux sends at most 256
 * (VIRTIO_BALLOON_ARRAY_PFNS_MAX); guest/tests/virtio_balloon.c inflates 128 MiB (32768 PFNs) in
 * one request. A longer array breaks the device (NEEDS_RESET) rather than have the I/O thread walk
 * up to 4 GiB of PFNs (a billion entries) under the device lock. Stats buffers are bounded the
 * same way (Linux sends ~16 entries). */
#define BALLOON_MAX_PFNS 32768u
#define BALLOON_MAX_STATS 64u
/* PFNs walked per pass of the I/O thread (~0.13 s of MADV_REMOVE at worst, every other page);
 * the rest of the ring waits for the next pass. */
#define BALLOON_PFNS_PER_PASS 32768u

/* Calls fn(opaque, host, bytes) for each run of contiguous guest pages the chain's PFN array
 * names; PFNs outside guest RAM are skipped. Returns the number of valid pages, or -E2BIG for
 * an array over BALLOON_MAX_PFNS entries. */
typedef void (*balloon_range_fn)(void *opaque, void *host, uint64_t bytes);
int64_t balloon_walk_pfns(const struct guest_mem *mem, const struct virtq_chain *c, balloon_range_fn fn,
			  void *opaque);
/* Parse a stats buffer (tag, value pairs) into stats[] (untouched for absent tags); returns the
 * number of entries, -EINVAL if the buffer is not a whole number of entries, -E2BIG if it has
 * more than BALLOON_MAX_STATS. */
int balloon_parse_stats(const struct virtq_chain *c, uint64_t stats[VIRTIO_BALLOON_S_NR]);

/* Host side: ask the guest to hold `pages` 4 KiB pages; read the pages held and the last stats. */
void virtio_balloon_set_target(struct virtio_mmio *t, uint32_t pages);
uint32_t virtio_balloon_actual(struct virtio_mmio *t);
uint64_t virtio_balloon_released(struct virtio_mmio *t);	/* pages returned to the host so far */
/* Ask for fresh statistics (returns the held stats buffer); copies the last ones into out. */
void virtio_balloon_stats(struct virtio_mmio *t, uint64_t out[VIRTIO_BALLOON_S_NR]);

#endif
