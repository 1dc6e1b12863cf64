/* Floods the serial console: serial.lines=N (default 500) numbered lines of fixed text, so the test
 * can check that every byte arrives once and in order. With serial.echo it instead reads one line
 * from COM1 (capsule's stdin) and prints it back, which exercises the UART's receive side. */
#include "io.h"
#include "rt.h"

#define COM1 0x3f8
#define LSR_DR 0x01
#define POLLS (1ULL << 19)	/* each poll is a VM exit (~15 us): this is several seconds */

static int getc_bounded(void)
{
	uint64_t polls = POLLS;

	while (polls--)
		if (inb(COM1 + 5) & LSR_DR)
			return inb(COM1);
	return -1;
}

static int echo(void)
{
	char line[128];
	unsigned n = 0;
	int c;

	rt_puts("serial: waiting for a line\n");
	while ((c = getc_bounded()) >= 0 && c != '\n' && c != '\r' && n + 1 < sizeof(line))
		line[n++] = (char)c;
	line[n] = 0;
	if (c < 0) {
		rt_printf("serial: input ended after %u bytes\n", n);
		return RT_EXIT_FAIL;
	}
	rt_printf("serial: got [%s]\n", line);
	return 0;
}

int guest_main(void)
{
	unsigned n = (unsigned)rt_cmdline_num("serial.lines", 500), i;

	if (rt_cmdline_flag("serial.echo"))
		return echo();

	for (i = 1; i <= n; i++)
		rt_printf("serial %05u/%05u the quick brown fox jumps over the lazy dog\n", i, n);
	rt_puts("serial: done\n");
	return 0;
}
