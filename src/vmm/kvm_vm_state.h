/* The VM-wide state KVM keeps for a snapshot: the two 8259 PICs and the IOAPIC (KVM's in-kernel
 * irqchip), the PIT, and the kvmclock's clock. Read, encoded as named fields, decoded (checked)
 * and put back, like vcpu_state.h. */
#ifndef CAPSULE_VMM_KVM_VM_STATE_H
#define CAPSULE_VMM_KVM_VM_STATE_H

#include <linux/kvm.h>

#include "../lib/error.h"
#include "vmstate.h"

#define KVM_VM_STATE_VERSION 1

struct kvm_vm_saved {
	struct kvm_pic_state pic[2];
	struct kvm_ioapic_state ioapic;
	struct kvm_pit_state2 pit;
	uint64_t clock;
};

int kvm_vm_state_read(int vm_fd, struct kvm_vm_saved *s, cap_err *err);
int kvm_vm_state_encode(const struct kvm_vm_saved *s, struct vmstate_out *out);
int kvm_vm_state_decode(const struct vmstate_in *in, struct kvm_vm_saved *s, cap_err *err);
int kvm_vm_state_apply(int vm_fd, const struct kvm_vm_saved *s, cap_err *err);

#endif
