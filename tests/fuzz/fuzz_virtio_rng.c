// fuzz-sources: src/vmm/virtio/rng.c src/vmm/virtio/mmio.c src/vmm/virtio/queue.c src/vmm/memory.c src/lib/log.c src/lib/error.c src/lib/efd.c
/* libFuzzer target: the virtio-mmio register file and status machine (a register-write script
 * from the input) with virtio-rng's request handling behind it. */
#include "fuzz_virtio_common.h"
#include "../../src/vmm/virtio/devices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_mmio *t;

	if (!t) {
		fz_init();
		cap_err err = { 0 };
		t = virtio_rng_create(&fz_gm, &err);
		if (!t)
			abort();
	}
	fz_run(t, data, size);
	return 0;
}
