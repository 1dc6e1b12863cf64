// fuzz-sources: src/vmm/virtio/blk.c src/vmm/virtio/mmio.c src/vmm/virtio/queue.c src/vmm/backends/block.c src/vmm/backends/block_uring.c src/vmm/memory.c src/lib/log.c src/lib/error.c src/lib/evloop.c src/lib/efd.c src/vmm/virtio/throttle.c src/vmm/ratelimit.c src/vmm/vmstate.c src/vmm/sandbox/seccomp.c src/vmm/sandbox/seccomp_table.c
/* libFuzzer target: virtio-blk requests (header, data, status layout; read, write, flush,
 * get-id, discard; ranges) through the MMIO transport, against a 64 KiB image file. */
#include <stdio.h>
#include <unistd.h>

#include "fuzz_virtio_common.h"
#include "../../src/vmm/backends/block.h"
#include "../../src/vmm/virtio/blk.h"
#include "../../src/vmm/virtio/devices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_mmio *t;

	if (!t) {
		char path[] = "/tmp/capsule-fuzz-blk.XXXXXX";
		int fd = mkstemp(path);
		if (fd < 0 || ftruncate(fd, 65536) < 0)
			abort();
		close(fd);
		fz_init();
		cap_err err = { 0 };
		struct vm_disk_config disk = { .path = path, .id = "fuzz" };
		t = virtio_blk_create_mode(&fz_gm, &disk, BLK_MODE_URING, &err);
		if (!t)
			t = virtio_blk_create_mode(&fz_gm, &disk, BLK_MODE_THREAD, &err);
		unlink(path);
		if (!t)
			abort();
	}
	fz_run(t, data, size);
	/* Finish every request before the next input rewrites RAM. */
	while (virtio_blk_inflight(t))
		virtio_blk_wait(t, 1000);
	return 0;
}
