// fuzz-sources: src/vmm/virtio/net.c src/vmm/virtio/mmio.c src/vmm/virtio/queue.c src/vmm/backends/tap.c src/vmm/memory.c src/lib/log.c src/lib/error.c src/lib/evloop.c src/lib/efd.c src/vmm/virtio/throttle.c src/vmm/ratelimit.c
/* libFuzzer target: virtio-net TX chain validation over chains the walker pops from
 * fuzzer-controlled rings (the TAP side needs CAP_NET_ADMIN, so the device itself is covered
 * by the unit tests instead). */
#include "fuzz_virtio_common.h"
#include "../../src/vmm/virtio/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_chain *c;
	struct virtq q;

	fz_init();
	if (!c)
		c = malloc(sizeof(*c));
	if (size < 2)
		return 0;
	memset(fz_ram, 0, FZ_RAM);
	memcpy(fz_ram, data + 2, size - 2 < FZ_RAM ? size - 2 : FZ_RAM);
	memset(&q, 0, sizeof(q));
	q.mem = &fz_gm;
	q.num = FZ_QNUM;
	q.indirect = data[0] & 1;
	q.avail_gpa = 0x100;
	q.used_gpa = 0x140;
	if (virtq_enable(&q) < 0)
		return 0;
	while (virtq_pop(&q, c) > 0) {
		int n = net_tx_check(c);
		if (n >= 0 && (uint64_t)n + NET_HDR_LEN != c->out_len)
			abort();
		virtq_push(&q, c->head, 0);
	}
	return 0;
}
