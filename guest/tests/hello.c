/* The smallest guest: one known line on the serial console, then exit status 0. */
#include "rt.h"

int guest_main(void)
{
	rt_puts("hello from capsule guest\n");
	return 0;
}
