/* One vCPU's architectural state for a snapshot: read from KVM, written as named vmstate fields,
 * decoded (and checked) back into KVM's structures, put into a new vCPU. Decoding is separate
 * from the ioctls so that the fuzz target runs it without KVM. */
#ifndef CAPSULE_VMM_VCPU_STATE_H
#define CAPSULE_VMM_VCPU_STATE_H

#include <linux/kvm.h>
#include <stdint.h>

#include "../lib/error.h"
#include "vmstate.h"

#define VCPU_STATE_VERSION 1
#define VCPU_STATE_MAX_MSRS 1024
#define VCPU_STATE_MAX_CPUID 256
#define VCPU_STATE_XSAVE_MAX (64u << 10)

struct vcpu_cpuid_entry {
	uint32_t function, index, flags, eax, ebx, ecx, edx;
};

struct vcpu_saved {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	uint8_t *xsave;			/* malloc'd, xsave_len bytes (the architectural XSAVE area) */
	uint32_t xsave_len;
	uint32_t nxcrs;
	struct kvm_xcr xcrs[KVM_MAX_XCRS];
	uint32_t nmsrs;
	struct kvm_msr_entry *msrs;	/* malloc'd */
	struct kvm_debugregs debugregs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	uint32_t ncpuid;
	struct vcpu_cpuid_entry *cpuid;	/* malloc'd: what the guest was shown */
};

void vcpu_saved_free(struct vcpu_saved *s);

/* Everything KVM reports for the vCPU behind fd (kvm_fd for the MSR list and the XSAVE size). */
int vcpu_state_read(int kvm_fd, int vm_fd, int fd, struct vcpu_saved *s, cap_err *err);
/* The fields of s into the open section. */
int vcpu_state_encode(const struct vcpu_saved *s, struct vmstate_out *out);
/* Back from the open section; every count and length is checked. */
int vcpu_state_decode(const struct vmstate_in *in, struct vcpu_saved *s, cap_err *err);
/* Into a new vCPU that has not run yet: CPUID, sregs, regs, FPU, XSAVE, XCRs, debug regs, LAPIC,
 * MSRs, MP state, pending events (the order in which KVM accepts them: the TSC deadline MSR
 * needs the LAPIC's timer mode first). */
int vcpu_state_apply(int vm_fd, int fd, const struct vcpu_saved *s, cap_err *err);

#endif
