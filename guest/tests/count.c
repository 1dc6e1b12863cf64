/* Every vCPU counts forever in ring 3 (native speed here, and no VM exit while it does) in its
 * own slot of rt_counters, which a host test finds in guest memory by its magic and watches:
 * while the VM is paused no count moves, after a resume every one goes on
 * (tests/unit/test_vm_pause.c). The guest never ends by itself. */
#include "rt.h"

#define COUNT_MAGIC 0x31544e4353504143ULL	/* "CAPSCNT1" */

/* Initialised data: the magic is in the loaded image, before any guest instruction runs. */
struct counters {
	uint64_t magic;
	uint64_t ncpus;
	volatile uint64_t count[RT_MAX_CPUS];
} rt_counters __attribute__((aligned(64))) = { .magic = COUNT_MAGIC };

static long count_forever(long cpu)
{
	for (;;)
		rt_counters.count[cpu]++;
	return 0;
}

void guest_ap_main(unsigned cpu)
{
	rt_user_call(count_forever, cpu);
}

int guest_main(void)
{
	rt_counters.ncpus = rt_ncpus();
	rt_printf("count: %u vCPUs counting\n", rt_ncpus());
	rt_user_call(count_forever, 0);
	return RT_EXIT_FAIL;
}
