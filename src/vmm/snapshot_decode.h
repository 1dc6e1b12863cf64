/* The VMM-owned part of a snapshot's body, decoded and checked before any of it goes into KVM
 * (snapshot.c; the fuzz target runs it on hostile bodies). */
#ifndef CAPSULE_VMM_SNAPSHOT_DECODE_H
#define CAPSULE_VMM_SNAPSHOT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/error.h"
#include "config.h"
#include "kvm_vm_state.h"
#include "vcpu_state.h"

#define SNAPSHOT_MACHINE_VERSION 1	/* the "machine" section */

struct restore_plan {
	uint32_t ncpus;
	uint64_t memory_mib;
	struct kvm_vm_saved vmstate;
	struct vcpu_saved *vcpus;	/* ncpus of them */
	struct vm_config devices;	/* the config section: only the device fields are set */
};

/* The machine, kvm-vm and vcpuN sections of a body snapshot_file_check accepted. */
int snapshot_decode(const uint8_t *body, size_t len, uint64_t mem_bytes, struct restore_plan *pl, cap_err *err);
void snapshot_plan_free(struct restore_plan *pl);

#endif
