/* SMP helpers: the check-in counter and a bounded ring-3 wait for it. The counter increment runs in
 * the emulated ring 0 (a locked add), so it also proves the emulator handles locked instructions. */
#include "rt.h"

static volatile uint32_t checked_in;

void rt_smp_checkin(void)
{
	rt_atomic_inc(&checked_in);
}

uint32_t rt_wait_at_least(volatile uint32_t *p, uint32_t want, uint64_t spins)
{
	uint32_t v = rt_atomic_load(p);

	while (v < want && spins--) {
		rt_pause();
		v = rt_atomic_load(p);
	}
	return v;
}

static long wait_fn(long want)
{
	return rt_wait_at_least(&checked_in, (uint32_t)want, RT_SMP_SPINS);
}

unsigned rt_smp_wait_all(void)
{
	uint32_t v = rt_atomic_load(&checked_in);

	/* The wait is a long loop: run it at native speed in ring 3, not in the emulated ring 0. */
	if (v < rt_ncpus())
		v = (uint32_t)rt_user_call(wait_fn, rt_ncpus());
	return v;
}
