/* Every vCPU checks in on an atomic counter; vCPU 0 waits (bounded, in ring 3) for all RDX of them
 * and prints "cpus online: N". Exits RT_EXIT_FAIL if some never arrive.
 * With smp.allexit on the command line, every vCPU then writes status 0 to the exit port at once
 * (the APs wait in ring 3 for vCPU 0's go), to check the VMM copes with simultaneous exits. */
#include "rt.h"

static volatile uint32_t go;

static long wait_go(long unused)
{
	(void)unused;
	return rt_wait_at_least(&go, 1, RT_SMP_SPINS);
}

void guest_ap_main(unsigned cpu)
{
	(void)cpu;
	rt_smp_checkin();
	if (rt_cmdline_flag("smp.allexit")) {
		rt_user_call(wait_go, 0);
		rt_exit(0);
	}
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
	if (rt_cmdline_flag("smp.allexit")) {
		rt_puts("smp: every vCPU exits now\n");
		__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	}
	return 0;
}
