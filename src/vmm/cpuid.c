#include "cpuid.h"

#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#define CPUID_1_ECX_CX16 (1u << 13)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)

/* Bits needed to hold n-1 (the x2APIC ID shift for a topology level of n units). */
static unsigned int shift_for(int n)
{
	unsigned int s = 0;
	while ((1 << s) < n)
		s++;
	return s;
}

void cpuid_normalise(struct kvm_cpuid2 *c, int index, const struct cpuid_policy *p)
{
	unsigned int core_shift = shift_for(p->ncpus);

	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			/* EBX: [31:24] initial APIC ID, [23:16] logical processors per package, [15:8] CLFLUSH size. */
			e->ebx = ((uint32_t)index << 24) | ((uint32_t)(p->ncpus > 255 ? 255 : p->ncpus) << 16) |
				 (e->ebx & 0xff00u);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (p->hide_cx16)
				e->ecx &= ~CPUID_1_ECX_CX16;
			if (p->tsc_deadline)
				e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
			if (p->ncpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			else
				e->edx &= ~CPUID_1_EDX_HTT;
			break;
		case 4:
			/* Deterministic cache parameters: [31:26] cores per package - 1, [25:14] threads sharing - 1. */
			e->eax &= 0x3fffu;
			e->eax |= (uint32_t)((p->ncpus - 1) & 0x3f) << 26;
			if (((e->eax >> 5) & 7) == 3) /* L3 shared by all cores */
				e->eax |= (uint32_t)((p->ncpus - 1) & 0xfff) << 14;
			break;
		case 6:
			/* No thermal/power management to offer the guest. */
			e->ecx &= ~1u; /* hardware coordination feedback */
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology: level 0 = SMT (1 thread per core), level 1 = core (ncpus per package). */
			e->edx = (uint32_t)index;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = core_shift;
				e->ebx = (uint32_t)p->ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = 0;
				e->ebx = 0;
				e->ecx = e->index & 0xff;
			}
			break;
		case 0x80000008:
			/* AMD: [7:0] number of cores - 1, [15:12] APIC ID size. */
			e->ecx = (e->ecx & ~0xf0ffu) | ((uint32_t)(p->ncpus - 1) & 0xff) | (core_shift << 12);
			break;
		default:
			break;
		}
	}
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t index)
{
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == index)
			return &c->entries[i];
	return NULL;
}

struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, int index, const struct cpuid_policy *p)
{
	const unsigned int extra = 3;
	struct kvm_cpuid2 *c = malloc(sizeof(*c) + (base->nent + extra) * sizeof(c->entries[0]));
	if (!c)
		return NULL;
	memcpy(c, base, sizeof(*c) + base->nent * sizeof(c->entries[0]));

	struct kvm_cpuid_entry2 *leaf0 = find(c, 0, 0);
	if (leaf0 && leaf0->eax >= 0xb) {
		/* Linux reads the core level of leaf 0xB to size its topology: it must be there. */
		for (uint32_t sub = 0; sub < extra; sub++) {
			if (find(c, 0xb, sub))
				continue;
			c->entries[c->nent++] = (struct kvm_cpuid_entry2){
				.function = 0xb, .index = sub, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			};
		}
	}
	cpuid_normalise(c, index, p);
	return c;
}
