/* Triple-faults on purpose: with an empty IDT, ud2's #UD cannot be delivered, nor can the #GP or #DF
 * that follow, so the vCPU shuts down and capsule must exit with status 4.
 * With fault.ap on the command line (and --cpus 2 or more) vCPU 1 faults instead while vCPU 0 keeps
 * spinning in ring 3: a fault on any vCPU must end the VM. */
#include "rt.h"

static volatile uint32_t never;

static void triple_fault(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	__asm__ volatile("lidt %0; ud2" : : "m"(empty));
}

static long spin(long unused)
{
	(void)unused;
	return rt_wait_at_least(&never, 1, RT_SMP_SPINS * 4);
}

void guest_ap_main(unsigned cpu)
{
	if (cpu == 1 && rt_cmdline_flag("fault.ap")) {
		rt_puts("fault: vCPU 1 triple-faulting now\n");
		triple_fault();
		rt_puts("fault: vCPU 1 still alive after ud2\n");
	}
}

int guest_main(void)
{
	if (rt_cmdline_flag("fault.ap")) {
		if (rt_ncpus() < 2) {
			rt_puts("fault: fault.ap needs --cpus 2 or more\n");
			return RT_EXIT_FAIL;
		}
		rt_user_call(spin, 0);
		rt_puts("fault: vCPU 0 outlived vCPU 1's triple fault\n");
		return RT_EXIT_FAIL;
	}
	rt_puts("fault: triple-faulting now\n");
	triple_fault();
	rt_puts("fault: still alive after ud2\n");
	return RT_EXIT_FAIL;
}
