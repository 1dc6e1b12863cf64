/* Decoding the VMM-owned sections of a snapshot's body (snapshot_decode.h): pure, so the fuzz
 * target (tests/fuzz/fuzz_snapshot.c) runs it on hostile bodies without KVM. */
#include "snapshot_decode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "snapshot_config.h"
#include "vmstate.h"

void snapshot_plan_free(struct restore_plan *pl)
{
	for (uint32_t i = 0; pl->vcpus && i < pl->ncpus; i++)
		vcpu_saved_free(&pl->vcpus[i]);
	free(pl->vcpus);
	pl->vcpus = NULL;
	vm_config_free(&pl->devices);
}

/* Decode every VMM-owned section of a checked body; device sections are left to the devices. */
int snapshot_decode(const uint8_t *body, size_t len, uint64_t mem_bytes, struct restore_plan *pl, cap_err *err)
{
	struct vmstate_in in;
	uint32_t ver = 0;
	uint64_t bytes = 0;
	memset(pl, 0, sizeof(*pl));
	vm_config_init(&pl->devices);
	vmstate_in_init(&in, body, len);
	int r = vmstate_open(&in, "machine", &ver);
	if (r < 0)
		return cap_errf(err, 0, "section machine: %s", r == -ENOENT ? "missing" : "malformed");
	if (ver > SNAPSHOT_MACHINE_VERSION)
		return cap_errf(err, EPROTO, "section machine: version %u is newer than this capsule's %u", ver,
				SNAPSHOT_MACHINE_VERSION);
	if (vmstate_get_u32(&in, "vcpus", &pl->ncpus) < 0 || vmstate_get_u64(&in, "memory_mib", &pl->memory_mib) < 0 ||
	    vmstate_get_u64(&in, "memory_bytes", &bytes) < 0)
		return cap_errf(err, 0, "section machine: a field is missing or malformed");
	if (pl->ncpus < 1 || pl->ncpus > BOOT_MAX_CPUS)
		return cap_errf(err, 0, "section machine: %u vCPUs is out of range", pl->ncpus);
	if (pl->memory_mib < VM_MIN_MEMORY_MIB || pl->memory_mib > (UINT64_MAX >> 20) || pl->memory_mib << 20 != bytes ||
	    bytes != mem_bytes)
		return cap_errf(err, 0, "section machine: memory size %llu MiB does not match the header's %llu bytes",
				(unsigned long long)pl->memory_mib, (unsigned long long)mem_bytes);

	r = vmstate_open(&in, "config", &ver);
	if (r < 0)
		return cap_errf(err, 0, "section config: %s", r == -ENOENT ? "missing" : "malformed");
	if (ver > SNAPSHOT_CONFIG_VERSION)
		return cap_errf(err, EPROTO, "section config: version %u is newer than this capsule's %u", ver,
				SNAPSHOT_CONFIG_VERSION);
	if ((r = snapshot_config_decode(&in, &pl->devices, err)) < 0) {
		cap_err_prefix(err, "section config");
		return r;
	}

	r = vmstate_open(&in, "kvm-vm", &ver);
	if (r < 0)
		return cap_errf(err, 0, "section kvm-vm: %s", r == -ENOENT ? "missing" : "malformed");
	if (ver > KVM_VM_STATE_VERSION)
		return cap_errf(err, EPROTO, "section kvm-vm: version %u is newer than this capsule's", ver);
	if ((r = kvm_vm_state_decode(&in, &pl->vmstate, err)) < 0) {
		cap_err_prefix(err, "section kvm-vm");
		return r;
	}
	pl->vcpus = calloc(pl->ncpus, sizeof(*pl->vcpus));
	if (!pl->vcpus)
		return cap_errf(err, ENOMEM, "vCPU state");
	for (uint32_t i = 0; i < pl->ncpus; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vcpu%u", i);
		r = vmstate_open(&in, name, &ver);
		if (r == 0 && ver > VCPU_STATE_VERSION)
			r = -EPROTO;
		if (r < 0) {
			r = cap_errf(err, 0, "section %s: %s", name,
				     r == -ENOENT ? "missing" : r == -EPROTO ? "a newer version than this capsule's" : "malformed");
			goto fail;
		}
		if ((r = vcpu_state_decode(&in, &pl->vcpus[i], err)) < 0) {
			cap_err_prefix(err, "section %s", name);
			goto fail;
		}
	}
	return 0;
fail:
	snapshot_plan_free(pl);
	return r;
}
