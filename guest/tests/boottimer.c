/* For boot-time measurements: pokes the boot timer as its very first action, then exits 0. */
#include "rt.h"

int guest_main(void)
{
	rt_boot_timer_poke();
	return 0;
}
