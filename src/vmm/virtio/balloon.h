/* virtio-balloon parsing, exposed for unit tests and the fuzzer, and the host-side controls. */
#ifndef CAPSULE_VMM_VIRTIO_BALLOON_H
#define CAPSULE_VMM_VIRTIO_BALLOON_H

#include <linux/virtio_balloon.h>
#include <stdint.h>

#include "../memory.h"
#include "queue.h"

struct virtio_mmio;

/* Calls fn(opaque, host, bytes) for each run of contiguous guest pages the chain's PFN array
 * names; PFNs outside guest RAM are skipped. Returns the number of valid pages. */
typedef void (*balloon_range_fn)(void *opaque, void *host, uint64_t bytes);
uint64_t balloon_walk_pfns(const struct guest_mem *mem, const struct virtq_chain *c, balloon_range_fn fn,
			   void *opaque);
/* Parse a stats buffer (tag, value pairs) into stats[] (untouched for absent tags); returns the
 * number of entries, or -EINVAL if the buffer is not a whole number of entries. */
int balloon_parse_stats(const struct virtq_chain *c, uint64_t stats[VIRTIO_BALLOON_S_NR]);

/* Host side: ask the guest to hold `pages` 4 KiB pages; read the pages held and the last stats. */
void virtio_balloon_set_target(struct virtio_mmio *t, uint32_t pages);
uint32_t virtio_balloon_actual(struct virtio_mmio *t);
uint64_t virtio_balloon_released(struct virtio_mmio *t);	/* pages returned to the host so far */
/* Ask for fresh statistics (returns the held stats buffer); copies the last ones into out. */
void virtio_balloon_stats(struct virtio_mmio *t, uint64_t out[VIRTIO_BALLOON_S_NR]);

#endif
