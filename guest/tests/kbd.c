/* Waits for the i8042 keyboard to send four bytes (PUT /actions SendCtrlAltDel queues Ctrl,
 * Alt and Delete's make codes) and prints them: "kbd: 1d 38 e0 53" with the power-on
 * translation on. Polls the status port (no interrupts in test guests); gives up after
 * "kbd.polls=N" polls (default 2000000) and exits 1. It pokes the boot timer first, so that the
 * API's metrics have a boot time. tests/vm/test_api.sh drives it. */
#include "io.h"
#include "rt.h"

#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define I8042_OBF 0x01

int guest_main(void)
{
	uint64_t polls = rt_cmdline_num("kbd.polls", 2000000);
	uint8_t got[4];
	int n = 0;
	rt_boot_timer_poke();
	rt_puts("kbd: waiting\n");
	for (uint64_t i = 0; i < polls && n < 4; i++)
		if (inb(I8042_STATUS) & I8042_OBF)
			got[n++] = inb(I8042_DATA);
	if (n < 4) {
		rt_printf("kbd: only %d bytes\n", n);
		return RT_EXIT_FAIL;
	}
	rt_printf("kbd: %02x %02x %02x %02x\n", got[0], got[1], got[2], got[3]);
	return 0;
}
