/* Floods the serial console: serial.lines=N (default 500) numbered lines of fixed text, so the test
 * can check that every byte arrives once and in order. */
#include "rt.h"

int guest_main(void)
{
	unsigned n = (unsigned)rt_cmdline_num("serial.lines", 500), i;

	for (i = 1; i <= n; i++)
		rt_printf("serial %05u/%05u the quick brown fox jumps over the lazy dog\n", i, n);
	rt_puts("serial: done\n");
	return 0;
}
