// fuzz-sources: src/vmm/virtio/balloon.c src/vmm/virtio/mmio.c src/vmm/virtio/queue.c src/vmm/memory.c src/lib/log.c src/lib/error.c src/lib/efd.c src/vmm/vmstate.c
/* libFuzzer target: virtio-balloon PFN arrays (inflate/deflate) and statistics buffers, and
 * config-space writes, through the MMIO transport. */
#include "fuzz_virtio_common.h"
#include "../../src/vmm/virtio/balloon.h"
#include "../../src/vmm/virtio/devices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_mmio *t;

	if (!t) {
		fz_init();
		cap_err err = { 0 };
		t = virtio_balloon_create(&fz_gm, &err);
		if (!t)
			abort();
	}
	fz_run(t, data, size);
	uint64_t stats[VIRTIO_BALLOON_S_NR];
	virtio_balloon_stats(t, stats);
	return 0;
}
