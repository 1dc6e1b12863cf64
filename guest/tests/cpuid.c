/* Prints the CPUID bits the VMM controls: CX16 (which must be hidden on this host, as the ring-0
 * emulator cannot run cmpxchg16b) and the topology in leaves 1 and 0xB, plus every vCPU's APIC IDs
 * so the test can check they match --cpus. */
#include "rt.h"

static uint32_t apic_ids[RT_MAX_CPUS], x2apic_ids[RT_MAX_CPUS];

static void record_ids(unsigned cpu)
{
	uint32_t r[4];

	rt_cpuid(1, 0, r);
	apic_ids[cpu] = r[1] >> 24;
	rt_cpuid(0, 0, r);
	if (r[0] >= 0xb) {
		rt_cpuid(0xb, 0, r);
		x2apic_ids[cpu] = r[3];
	}
}

void guest_ap_main(unsigned cpu)
{
	record_ids(cpu);
	rt_smp_checkin();
}

int guest_main(void)
{
	uint32_t r[4], max;
	unsigned n = rt_ncpus(), seen, i;

	rt_cpuid(0, 0, r);
	max = r[0];
	rt_cpuid(1, 0, r);
	rt_printf("cpuid: max leaf %#x\n", max);
	rt_printf("cpuid: cx16 %u\n", (r[2] >> 13) & 1);
	rt_printf("cpuid: hypervisor %u\n", (r[2] >> 31) & 1);
	rt_printf("cpuid: leaf1 htt %u logical %u apic %u\n", (r[3] >> 28) & 1, (r[1] >> 16) & 0xff,
		  r[1] >> 24);
	if (max >= 0xb) {
		uint32_t s[4];

		rt_cpuid(0xb, 0, r);
		rt_cpuid(0xb, 1, s);
		rt_printf("cpuid: leaf0xb smt %u type %u core %u type %u x2apic %u\n", r[1] & 0xffff,
			  (r[2] >> 8) & 0xff, s[1] & 0xffff, (s[2] >> 8) & 0xff, r[3]);
	} else {
		rt_puts("cpuid: leaf0xb absent\n");
	}

	record_ids(0);
	rt_smp_checkin();
	seen = rt_smp_wait_all();
	if (seen != n) {
		rt_printf("cpuid: only %u of %u vCPUs checked in\n", seen, n);
		return RT_EXIT_FAIL;
	}
	rt_puts("cpuid: apic ids");
	for (i = 0; i < n && i < RT_MAX_CPUS; i++)
		rt_printf(" %u", apic_ids[i]);
	rt_puts("\ncpuid: x2apic ids");
	for (i = 0; i < n && i < RT_MAX_CPUS; i++)
		rt_printf(" %u", x2apic_ids[i]);
	rt_puts("\n");
	return 0;
}
