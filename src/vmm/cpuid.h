/* CPUID normalisation: what each vCPU sees, derived from KVM_GET_SUPPORTED_CPUID. */
#ifndef CAPSULE_VMM_CPUID_H
#define CAPSULE_VMM_CPUID_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_cpuid2;

struct cpuid_policy {
	int ncpus;          /* one core per vCPU, one thread per core, one socket */
	bool hide_cx16;     /* kvm_pvm's emulator cannot run lock cmpxchg16b */
	bool tsc_deadline;  /* KVM emulates the LAPIC TSC-deadline timer (KVM_CAP_TSC_DEADLINE_TIMER):
	                       advertise it, as KVM_GET_SUPPORTED_CPUID does not */
};

/* Rewrite `c` in place for vCPU `index` (APIC ID = index). Pure: unit-testable. */
void cpuid_normalise(struct kvm_cpuid2 *c, int index, const struct cpuid_policy *p);

/* A malloc'd copy of `base` for vCPU `index`: the topology subleaves KVM left out added
 * (leaf 0xB subleaves 0-2 when the maximum basic leaf reaches it), then normalised. */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, int index, const struct cpuid_policy *p);

#endif
