/* Exits with status 42 through the test-exit port, proving the status reaches capsule's exit code.
 * exitcode=N on the command line picks another value (the VMM must pass on N & 0xff), and the word
 * exitcode.outb uses a byte write instead of a long one. */
#include "rt.h"

int guest_main(void)
{
	uint32_t v = (uint32_t)rt_cmdline_num("exitcode", 42);

	if (rt_cmdline_flag("exitcode.outb")) {
		rt_printf("exitcode: exiting with %u (outb)\n", v & 0xff);
		rt_exit8((uint8_t)v);
	}
	rt_printf("exitcode: exiting with %u\n", v);
	return (int)v;
}
