/* The snapshot's CPUID against this host's (snapshot_cpuid.h). */
#include "snapshot_cpuid.h"

#include <stdio.h>
#include <string.h>

/* Feature words compared, with the bits KVM changes at run time (OSXSAVE and APIC follow CR4
 * and APIC_BASE, OSPKE follows CR4) left out. */
static const struct feature_word {
	uint32_t function, index;
	int reg;		/* 0 eax, 1 ebx, 2 ecx, 3 edx */
	uint32_t ignore;
} words[] = {
	{ 0x1, 0, 2, 1u << 27 },
	{ 0x1, 0, 3, 1u << 9 },
	{ 0x7, 0, 1, 0 },
	{ 0x7, 0, 2, 1u << 4 },
	{ 0x7, 0, 3, 0 },
	{ 0xd, 0, 0, 0 },	/* XCR0 components */
	{ 0xd, 1, 0, 0 },	/* XSAVEOPT, XSAVEC, XGETBV1, XSAVES */
	{ 0x80000001, 0, 2, 0 },
	{ 0x80000001, 0, 3, 0 },
};

static const struct vcpu_cpuid_entry *find(const struct vcpu_cpuid_entry *e, uint32_t n, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < n; i++)
		if (e[i].function == fn && (e[i].index == idx || !(e[i].flags & 1 /* KVM_CPUID_FLAG_SIGNIFCANT_INDEX */)))
			return &e[i];
	return NULL;
}

static uint32_t reg(const struct vcpu_cpuid_entry *e, int r)
{
	return r == 0 ? e->eax : r == 1 ? e->ebx : r == 2 ? e->ecx : e->edx;
}

static void vendor(const struct vcpu_cpuid_entry *e, char out[13])
{
	memset(out, 0, 13);
	if (!e)
		return;
	memcpy(out, &e->ebx, 4);
	memcpy(out + 4, &e->edx, 4);
	memcpy(out + 8, &e->ecx, 4);
	for (int i = 0; i < 12; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			out[i] = '?';
}

int snapshot_cpuid_check(const struct vcpu_cpuid_entry *saved, uint32_t nsaved, const struct vcpu_cpuid_entry *host,
			 uint32_t nhost, char *why, size_t whylen)
{
	static const char *const rn[] = { "eax", "ebx", "ecx", "edx" };
	const struct vcpu_cpuid_entry *s0 = find(saved, nsaved, 0, 0), *h0 = find(host, nhost, 0, 0);
	char sv[13], hv[13];
	vendor(s0, sv);
	vendor(h0, hv);
	if (!s0 || !h0 || strcmp(sv, hv) != 0) {
		snprintf(why, whylen, "taken on a %s CPU, this host is %s", s0 ? sv : "(unknown)", h0 ? hv : "(unknown)");
		return -1;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		const struct feature_word *w = &words[i];
		const struct vcpu_cpuid_entry *s = find(saved, nsaved, w->function, w->index);
		if (!s)
			continue;
		const struct vcpu_cpuid_entry *h = find(host, nhost, w->function, w->index);
		uint32_t want = reg(s, w->reg) & ~w->ignore, have = h ? reg(h, w->reg) : 0;
		if (want & ~have) {
			snprintf(why, whylen, "this host's CPU lacks features the snapshot's CPUID promised (leaf 0x%x.%u %s bits 0x%x)",
				 w->function, w->index, rn[w->reg], want & ~have);
			return -1;
		}
	}
	return 0;
}
