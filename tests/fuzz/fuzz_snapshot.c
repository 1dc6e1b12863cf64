// fuzz-sources: src/vmm/snapshot_file.c src/vmm/snapshot_decode.c src/vmm/snapshot_config.c src/vmm/snapshot_cpuid.c src/vmm/vcpu_state.c src/vmm/kvm_vm_state.c src/vmm/vmstate.c src/vmm/config.c src/vmm/virtio/mmio_state.c src/vmm/virtio/mmio.c src/vmm/virtio/queue.c src/vmm/virtio/rng.c src/vmm/virtio/balloon.c src/vmm/memory.c src/lib/log.c src/lib/error.c src/lib/efd.c src/vmm/ratelimit.c
// fuzz-seeds: tests/fuzz/seeds_snapshot.c
/* libFuzzer target: a snapshot state file as `capsule vm restore` reads it. The first byte picks
 * what the rest is: even, a whole state file (envelope, section table, checksums); odd, a body
 * of sections that gets a valid envelope first, so the fuzzer reaches the section decoders
 * (machine, config, kvm-vm, vcpuN), the CPUID rule and the restore of a virtio-rng and a
 * virtio-balloon (queues inside the fuzzer's guest RAM, the balloon's held buffer one of its
 * queue's) without solving CRCs. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_virtio_common.h"
#include "../../src/vmm/snapshot_cpuid.h"
#include "../../src/vmm/snapshot_decode.h"
#include "../../src/vmm/snapshot_file.h"
#include "../../src/vmm/virtio/balloon.h"
#include "../../src/vmm/virtio/devices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_mmio *rng, *balloon;
	if (!rng) {
		fz_init();
		cap_err e = { 0 };
		if (!(rng = virtio_rng_create(&fz_gm, &e)) || !(balloon = virtio_balloon_create(&fz_gm, &e)))
			abort();
	}
	if (size < 1)
		return 0;
	uint8_t *file = NULL;
	size_t len = 0;
	if (data[0] & 1) {
		if (snapshot_file_build(data[0] & 2 ? SNAPSHOT_FLAG_DIFF : 0, 16u << 20, data + 1, size - 1, &file, &len) < 0)
			return 0;
	} else {
		file = malloc(size);
		memcpy(file, data + 1, size - 1);
		len = size - 1;
	}
	struct snapshot_header h;
	const uint8_t *body;
	cap_err err = { 0 };
	if (snapshot_file_check(file, len, &h, &body, &err) == 0) {
		struct restore_plan pl;
		if (snapshot_decode(body, (size_t)h.body_len, h.mem_bytes, &pl, &err) == 0) {
			char why[256];
			snapshot_cpuid_check(pl.vcpus[0].cpuid, pl.vcpus[0].ncpuid, pl.vcpus[pl.ncpus - 1].cpuid,
					     pl.vcpus[pl.ncpus - 1].ncpuid, why, sizeof(why));
			snapshot_plan_free(&pl);
		}
		struct vmstate_in in;
		vmstate_in_init(&in, body, (size_t)h.body_len);
		if (vmstate_open(&in, "virtio-rng", NULL) == 0) {
			virtio_mmio_reset(rng);
			virtio_mmio_restore(rng, &in);
			virtio_mmio_kick(rng, 0);
		}
		if (vmstate_open(&in, "virtio-balloon", NULL) == 0) {
			virtio_mmio_reset(balloon);
			if (virtio_mmio_restore(balloon, &in) == 0) {
				uint64_t st[VIRTIO_BALLOON_S_NR];
				virtio_balloon_stats(balloon, st); /* gives a held stats buffer back */
				for (unsigned q = 0; q < 3; q++)
					virtio_mmio_kick(balloon, q);
			}
		}
	}
	free(file);
	return 0;
}
