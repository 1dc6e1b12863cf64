/* CPUID normalisation: topology for N vCPUs, CX16 hidden on request, hypervisor bit. */
#include <linux/kvm.h>
#include <stdlib.h>

#include "unit.h"
#include "../../src/vmm/cpuid.h"

static struct kvm_cpuid2 *table(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 4 * sizeof(c->entries[0]));
	c->nent = 3;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0x00000800, .ecx = (1u << 13) | 1u,
						   .edx = 1u << 28 };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0,
						   .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	return c;
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static void test_topology_four_cpus(void)
{
	struct kvm_cpuid2 *base = table();
	struct cpuid_policy p = { .ncpus = 4, .hide_cx16 = false, .tsc_deadline = true };
	struct kvm_cpuid2 *c = cpuid_for_vcpu(base, 3, &p);
	CHECK(c != NULL);
	struct kvm_cpuid_entry2 *l1 = find(c, 1, 0);
	CHECK_EQ(l1->ebx >> 24, 3u);            /* APIC ID */
	CHECK_EQ((l1->ebx >> 16) & 0xff, 4u);   /* logical processors */
	CHECK_EQ(l1->ebx & 0xff00, 0x800u);     /* CLFLUSH size kept */
	CHECK(l1->ecx & (1u << 31));            /* hypervisor */
	CHECK(l1->ecx & (1u << 13));            /* CX16 kept when not asked to hide */
	CHECK(l1->edx & (1u << 28));            /* HTT with more than one logical CPU */
	CHECK(l1->ecx & (1u << 24));            /* TSC deadline advertised */
	struct kvm_cpuid_entry2 *smt = find(c, 0xb, 0), *core = find(c, 0xb, 1), *end = find(c, 0xb, 2);
	CHECK(smt && core && end);              /* the missing subleaves were added */
	CHECK_EQ(smt->ebx, 1u);
	CHECK_EQ((smt->ecx >> 8) & 0xff, 1u);   /* SMT level */
	CHECK_EQ(core->ebx, 4u);
	CHECK_EQ(core->eax, 2u);                /* shift: 4 CPUs need 2 bits */
	CHECK_EQ((core->ecx >> 8) & 0xff, 2u);  /* core level */
	CHECK_EQ(core->edx, 3u);                /* x2APIC ID */
	CHECK_EQ((end->ecx >> 8) & 0xff, 0u);   /* invalid level ends the list */
	free(c);
	free(base);
}

static void test_hide_cx16_single_cpu(void)
{
	struct kvm_cpuid2 *base = table();
	struct cpuid_policy p = { .ncpus = 1, .hide_cx16 = true };
	struct kvm_cpuid2 *c = cpuid_for_vcpu(base, 0, &p);
	struct kvm_cpuid_entry2 *l1 = find(c, 1, 0);
	CHECK(!(l1->ecx & (1u << 13)));
	CHECK(l1->ecx & 1u);                    /* other bits untouched */
	CHECK(!(l1->edx & (1u << 28)));
	CHECK(!(l1->ecx & (1u << 24)));         /* no TSC deadline unless KVM emulates it */
	CHECK_EQ(l1->ebx >> 24, 0u);
	free(c);
	free(base);
}

static void test_no_leaf_b_below_max(void)
{
	struct kvm_cpuid2 *base = table();
	base->entries[0].eax = 0xa; /* max basic leaf below 0xB: do not invent it */
	base->nent = 2;
	struct cpuid_policy p = { .ncpus = 2 };
	struct kvm_cpuid2 *c = cpuid_for_vcpu(base, 1, &p);
	CHECK(find(c, 0xb, 1) == NULL);
	CHECK_EQ(c->nent, 2u);
	free(c);
	free(base);
}

int main(void)
{
	RUN(test_topology_four_cpus);
	RUN(test_hide_cx16_single_cpu);
	RUN(test_no_leaf_b_below_max);
	UNIT_EXIT();
}
