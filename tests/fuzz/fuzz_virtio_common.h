/* Shared by the virtio device fuzz targets: the fuzzer's input becomes guest RAM (rings,
 * descriptors, request bytes) and a script of register writes; the device is reset, set up
 * through its MMIO registers like a driver would, and every queue is kicked. */
#ifndef CAPSULE_FUZZ_VIRTIO_COMMON_H
#define CAPSULE_FUZZ_VIRTIO_COMMON_H

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/lib/log.h"
#include "../../src/vmm/memory.h"
#include "../../src/vmm/virtio/mmio.h"

#define FZ_RAM (256 * 1024)
#define FZ_QNUM 16

static uint8_t *fz_ram;
static struct guest_mem fz_gm;

static inline void fz_wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, true);
}

static inline void fz_init(void)
{
	if (fz_ram)
		return;
	fz_ram = aligned_alloc(4096, FZ_RAM);
	guest_mem_init_buffer(&fz_gm, fz_ram, FZ_RAM);
	cap_log_set_level(CAP_LOG_QUIET);
}

/* Queue q's rings packed near the start of RAM so short inputs reach them: desc at q*0x200
 * (256 B), avail +0x100, used +0x140. */
static inline void fz_run(struct virtio_mmio *t, const uint8_t *data, size_t size)
{
	if (size < 4)
		return;
	uint8_t feat = data[0], kicks = data[1], nops = data[2] % 16;
	data += 4;
	size -= 4;
	memset(fz_ram, 0, FZ_RAM);
	/* Register script at the tail: nops x (offset byte, 32-bit value). */
	size_t script = (size_t)nops * 5;
	if (script > size)
		script = size;
	const uint8_t *ops = data + size - script;
	size -= script;
	memcpy(fz_ram, data, size < FZ_RAM ? size : FZ_RAM);

	fz_wr(t, VIRTIO_MMIO_STATUS, 0);
	fz_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	fz_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	fz_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	fz_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	fz_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat & 3) << 28 | (feat >> 2));
	fz_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < t->nqueues; q++) {
		fz_wr(t, VIRTIO_MMIO_QUEUE_SEL, q);
		fz_wr(t, VIRTIO_MMIO_QUEUE_NUM, FZ_QNUM);
		fz_wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, q * 0x200);
		fz_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, q * 0x200 + 0x100);
		fz_wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, q * 0x200 + 0x140);
		fz_wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	fz_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	for (size_t i = 0; i + 5 <= script; i += 5) {
		uint32_t v;
		memcpy(&v, ops + i + 1, 4);
		/* Registers and config space, both directions. */
		uint64_t off = (uint64_t)ops[i] * 4 % 0x200;
		if (ops[i] & 1)
			fz_wr(t, off, v);
		else
			virtio_mmio_access(t, off, (uint8_t *)&v, 4, false);
	}
	for (unsigned k = 0; k < 4; k++)
		fz_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, (kicks >> (2 * k)) & 3);
}

#endif
