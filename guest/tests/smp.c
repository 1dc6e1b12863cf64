/* Every vCPU checks in on an atomic counter; vCPU 0 waits (bounded, in ring 3) for all RDX of them
 * and prints "cpus online: N". Exits RT_EXIT_FAIL if some never arrive. */
#include "rt.h"

void guest_ap_main(unsigned cpu)
{
	(void)cpu;
	rt_smp_checkin();
}

int guest_main(void)
{
	unsigned seen;

	rt_smp_checkin();
	seen = rt_smp_wait_all();
	if (seen != rt_ncpus()) {
		rt_printf("smp: only %u of %u vCPUs checked in\n", seen, rt_ncpus());
		return RT_EXIT_FAIL;
	}
	rt_printf("cpus online: %u\n", seen);
	return 0;
}
