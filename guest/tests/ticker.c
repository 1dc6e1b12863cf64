/* Prints "tick N" on the serial console forever, N counting up, with a spin in ring 3 (native
 * speed here) between lines: a console that stops growing shows the VM is paused, and one that
 * grows again shows it resumed (tests/vm/test_api.sh). "spins=N" on the command line sets the
 * length of the pause between ticks (default 50 M iterations, some tens of ms). */
#include "rt.h"

static long spin(long n)
{
	for (volatile long i = 0; i < n; i++)
		;
	return 0;
}

int guest_main(void)
{
	long spins = (long)rt_cmdline_num("spins", 50000000);
	for (unsigned long i = 0;; i++) {
		rt_printf("tick %lu\n", i);
		rt_user_call(spin, spins);
	}
	return RT_EXIT_FAIL;
}
