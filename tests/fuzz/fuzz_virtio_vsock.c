// fuzz-sources: src/vmm/virtio/vsock.c src/vmm/virtio/vsock_muxer.c src/vmm/virtio/mmio.c src/vmm/virtio/queue.c src/vmm/memory.c src/lib/log.c src/lib/error.c src/lib/evloop.c src/lib/efd.c
/* libFuzzer target: virtio-vsock TX packets (header checks, every op, connection state) and
 * RX buffer handling, through the MMIO transport. Guest connections go to Unix sockets that
 * do not exist, so they are refused quickly. */
#include <stdio.h>
#include <unistd.h>

#include "fuzz_virtio_common.h"
#include "../../src/vmm/virtio/devices.h"
#include "../../src/vmm/virtio/vsock.h"

static char path[64];

/* libFuzzer ends with exit(): take the listening socket's file with us. */
static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_mmio *t;

	if (!t) {
		snprintf(path, sizeof(path), "/tmp/capsule-fuzz-vsock-%d.sock", (int)getpid());
		fz_init();
		cap_err err = { 0 };
		t = virtio_vsock_create(&fz_gm, 3, path, &err);
		if (!t)
			abort();
		atexit(cleanup);
	}
	fz_run(t, data, size);
	virtio_vsock_poll(t);
	return 0;
}
