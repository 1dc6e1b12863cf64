// fuzz-sources: src/vmm/virtio/queue.c src/vmm/memory.c src/lib/log.c src/lib/error.c
/* libFuzzer target: the split-virtqueue walker over guest RAM the fuzzer controls entirely
 * (rings, descriptors, indirect tables). Every popped chain's buffers are touched so ASan sees
 * any iovec that escapes guest RAM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/lib/log.h"
#include "../../src/vmm/memory.h"
#include "../../src/vmm/virtio/queue.h"

#define RAM_SIZE (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct virtq_chain *c;
	static struct guest_mem gm;
	struct virtq q;

	if (!ram) {
		ram = aligned_alloc(4096, RAM_SIZE);
		c = malloc(sizeof(*c));
		cap_log_set_level(CAP_LOG_QUIET);
	}
	if (size < 8)
		return 0;
	memset(ram, 0, RAM_SIZE);
	guest_mem_init_buffer(&gm, ram, RAM_SIZE);
	/* Header: queue size exponent, features, ring offsets. */
	memset(&q, 0, sizeof(q));
	q.mem = &gm;
	q.num = (uint16_t)(1u << (data[0] % 9));
	q.indirect = data[1] & 1;
	q.event_idx = data[1] & 2;
	/* Rings near the start of RAM so that short inputs reach them; high bits push them up. */
	q.desc_gpa = (uint64_t)data[2] * 16 + (data[1] & 0x80 ? 8 : 0);
	q.avail_gpa = (uint64_t)data[3] * 8 + 0x200;
	q.used_gpa = (uint64_t)data[4] * 8 + 0x400;
	uint16_t start = (uint16_t)(data[5] | data[6] << 8);
	data += 8;
	size -= 8;
	memcpy(ram, data, size < RAM_SIZE ? size : RAM_SIZE);
	if (virtq_enable(&q) < 0)
		return 0;
	q.last_avail = q.used_idx = start;
	for (int i = 0; i < 2 * VIRTQ_MAX_SIZE; i++) {
		int r = virtq_pop(&q, c);
		if (r <= 0)
			break;
		volatile uint8_t sink = 0;
		for (unsigned k = 0; k < c->nout; k++)
			if (c->out[k].iov_len)
				sink ^= ((uint8_t *)c->out[k].iov_base)[c->out[k].iov_len - 1];
		for (unsigned k = 0; k < c->nin; k++)
			if (c->in[k].iov_len)
				((uint8_t *)c->in[k].iov_base)[c->in[k].iov_len - 1] = sink;
		virtq_push(&q, c->head, (uint32_t)c->in_len);
		virtq_should_notify(&q);
	}
	return 0;
}
