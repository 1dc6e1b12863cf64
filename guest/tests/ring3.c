/* Drops to ring 3, runs a long loop there (native speed on this KVM, unlike the emulated ring 0),
 * checks CPL 3 from CS, comes back to ring 0 and reports. Does it twice to prove the round trip
 * can be repeated. */
#include "rt.h"

#define ITERATIONS 200000000L

/* Returns iterations * 4 + CPL, so one value carries both results back to ring 0. */
static long user_loop(long iterations)
{
	unsigned long acc = 0;
	long i;

	for (i = 0; i < iterations; i++)
		__asm__ volatile("add %1, %0" : "+r"(acc) : "r"(i));	/* not foldable */
	return i * 4 + rt_cpl();
}

int guest_main(void)
{
	long r1, r2;

	rt_printf("ring3: cpl %u before\n", rt_cpl());
	r1 = rt_user_call(user_loop, ITERATIONS);
	rt_printf("ring3: loop of %ld iterations at cpl %ld\n", r1 / 4, r1 % 4);
	r2 = rt_user_call(user_loop, 1000);
	rt_printf("ring3: back in ring 0, cpl %u (second trip: %ld at cpl %ld)\n", rt_cpl(), r2 / 4, r2 % 4);
	if (r1 != ITERATIONS * 4 + 3 || r2 != 1000 * 4 + 3 || rt_cpl() != 0) {
		rt_puts("ring3: FAILED\n");
		return RT_EXIT_FAIL;
	}
	rt_puts("ring3: ok\n");
	return 0;
}
