/* Writes the seed corpus of fuzz_snapshot into the directory argv[1]: a body (first byte odd)
 * with every section a restore decodes, filled by the same encoders vm_snapshot_create uses,
 * and the same as a whole state file (first byte even). Built by tests/fuzz/run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/vmm/config.h"
#include "../../src/vmm/kvm_vm_state.h"
#include "../../src/vmm/snapshot_config.h"
#include "../../src/vmm/snapshot_decode.h"
#include "../../src/vmm/snapshot_file.h"
#include "../../src/vmm/vcpu_state.h"
#include "../../src/vmm/virtio/devices.h"

static void put(const char *dir, const char *name, uint8_t first, const uint8_t *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputc(first, f);
	fwrite(p, 1, n, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	struct vmstate_out out;
	vmstate_out_init(&out);
	vmstate_begin(&out, "machine", SNAPSHOT_MACHINE_VERSION);
	vmstate_put_u32(&out, "vcpus", 1);
	vmstate_put_u64(&out, "memory_mib", 16);
	vmstate_put_u64(&out, "memory_bytes", 16u << 20);
	vmstate_end(&out);

	struct vm_config c;
	vm_config_init(&c);
	c.rng = true;
	vmstate_begin(&out, "config", SNAPSHOT_CONFIG_VERSION);
	snapshot_config_encode(&c, &out);
	vmstate_end(&out);

	struct kvm_vm_saved ks;
	memset(&ks, 0, sizeof(ks));
	vmstate_begin(&out, "kvm-vm", KVM_VM_STATE_VERSION);
	kvm_vm_state_encode(&ks, &out);
	vmstate_end(&out);

	struct vcpu_saved vs;
	memset(&vs, 0, sizeof(vs));
	struct vcpu_cpuid_entry cpuid[2] = { { 0, 0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65 },
					     { 7, 0, 1, 0, 0x1234, 0, 0 } };
	vs.cpuid = cpuid;
	vs.ncpuid = 2;
	struct kvm_msr_entry msrs[1] = { { .index = 0x10, .data = 12345 } };
	vs.msrs = msrs;
	vs.nmsrs = 1;
	vmstate_begin(&out, "vcpu0", VCPU_STATE_VERSION);
	vcpu_state_encode(&vs, &out);
	vmstate_end(&out);

	cap_err err = { 0 };
	static uint8_t ram[256 * 1024] __attribute__((aligned(4096)));
	struct guest_mem gm;
	guest_mem_init_buffer(&gm, ram, sizeof(ram));
	struct virtio_mmio *rng = virtio_rng_create(&gm, &err);
	if (!rng)
		return 1;
	vmstate_begin(&out, "virtio-rng", 1);
	virtio_mmio_save(rng, &out);
	vmstate_end(&out);
	struct virtio_mmio *bl = virtio_balloon_create(&gm, &err);
	if (!bl)
		return 1;
	vmstate_begin(&out, "virtio-balloon", 1);
	virtio_mmio_save(bl, &out);
	virtio_device_free(bl);
	if (vmstate_end(&out) < 0) {
		fprintf(stderr, "encoding failed\n");
		return 1;
	}
	put(argv[1], "body", 1, out.buf, out.len);
	uint8_t *file;
	size_t len;
	if (snapshot_file_build(0, 16u << 20, out.buf, out.len, &file, &len) < 0)
		return 1;
	put(argv[1], "file", 0, file, len);
	free(file);
	virtio_device_free(rng);
	vmstate_out_free(&out);
	return 0;
}
