/* Exits with status 42 through the test-exit port, proving the status reaches capsule's exit code. */
#include "rt.h"

int guest_main(void)
{
	rt_puts("exitcode: exiting with 42\n");
	return 42;
}
