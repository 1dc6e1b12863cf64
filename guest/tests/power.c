/* Powering off and resetting the way a kernel does, chosen by power=MODE on the command line:
 *   i8042       pulse the reset line through the keyboard controller (port 0x64, 0xfe);
 *   acpi-off    S5 through PM1a_CNT, with SLP_TYP from the DSDT's \_S5 package;
 *   acpi-reset  the FADT's RESET_REG;
 *   none        (default) only parse and check the ACPI tables.
 * Any other power= value fails (RT_EXIT_FAIL), so a test passing a mode the guest does not know
 * cannot mistake "nothing happened" for a power-off.
 * Finds the RSDP through boot_params.acpi_rsdp_addr (0x70) or by scanning 0xe0000-0xfffff, checks
 * every table's checksum, prints what it found. Capsule must end with status 0 for the first three;
 * a guest still running afterwards exits RT_EXIT_FAIL. */
#include "io.h"
#include "rt.h"


static int sum_ok(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s == 0;
}

/* The SLP_TYP of \_S5 in the AML: "_S5_", PackageOp, PkgLength, NumElements, first element. */
static int s5_slp_typ(const uint8_t *dsdt)
{
	uint32_t len = rt_rd32(dsdt + 4), i;

	for (i = 36; i + 8 < len; i++) {
		const uint8_t *p = dsdt + i;

		if (memcmp(p, "_S5_", 4) || p[4] != 0x12)
			continue;
		p += 5;
		p += 1 + (*p >> 6);	/* PkgLength: the top two bits count the extra bytes */
		p++;			/* NumElements */
		if (*p == 0x0a)		/* BytePrefix */
			return p[1];
		if (*p == 0x00 || *p == 0x01)	/* ZeroOp, OneOp */
			return *p;
		return *p < 8 ? *p : -1;
	}
	return -1;
}

/* power=WORD on the command line must name a mode this guest implements (or "none"). */
static int mode_known(void)
{
	static const char *const modes[] = { "i8042", "acpi-off", "acpi-reset", "none" };
	const char *s = rt_cmdline();
	size_t i, k, n;

	for (i = 0; s[i]; i++) {
		if ((i && s[i - 1] != ' ') || memcmp(s + i, "power=", 6))
			continue;
		for (n = 0; s[i + 6 + n] && s[i + 6 + n] != ' '; n++)
			;
		for (k = 0; k < sizeof(modes) / sizeof(modes[0]); k++)
			if (strlen(modes[k]) == n && !memcmp(s + i + 6, modes[k], n))
				break;
		if (k == sizeof(modes) / sizeof(modes[0]))
			return 0;
	}
	return 1;
}

static volatile uint32_t never;

static long linger(long unused)
{
	(void)unused;
	return rt_wait_at_least(&never, 1, RT_SMP_SPINS * 4);
}

int guest_main(void)
{
	const uint8_t *rsdp = rt_acpi_rsdp(), *sdt, *fadt = NULL, *dsdt;
	int xsdt, sums = 1, slp_typ;
	uint32_t n, i, entry, pm1a_cnt;
	uint8_t reset_space = 0, reset_value = 0;
	uint64_t reset_addr = 0, mode_acpi_off, mode_acpi_reset, mode_i8042;

	mode_i8042 = rt_cmdline_flag("power=i8042");
	mode_acpi_off = rt_cmdline_flag("power=acpi-off");
	mode_acpi_reset = rt_cmdline_flag("power=acpi-reset");
	if (!mode_known()) {
		rt_printf("power: unknown mode in \"%s\"\n", rt_cmdline());
		return RT_EXIT_FAIL;
	}
	if (mode_i8042) {
		rt_puts("power: i8042 reset\n");
		outb(0x64, 0xfe);
		goto still_alive;
	}

	if (!rsdp || memcmp(rsdp, "RSD PTR ", 8)) {
		rt_puts("power: no RSDP\n");
		return RT_EXIT_FAIL;
	}
	xsdt = rsdp[15] >= 2 && rt_rd64(rsdp + 24);
	sums &= sum_ok(rsdp, 20) && (rsdp[15] < 2 || sum_ok(rsdp, rt_rd32(rsdp + 20)));
	sdt = (const uint8_t *)(uintptr_t)(xsdt ? rt_rd64(rsdp + 24) : rt_rd32(rsdp + 16));
	sums &= sum_ok(sdt, rt_rd32(sdt + 4));
	entry = xsdt ? 8 : 4;
	n = (rt_rd32(sdt + 4) - 36) / entry;
	rt_printf("power: rsdp at %p rev %u, %s with %u tables:", (const void *)rsdp, rsdp[15],
		  xsdt ? "xsdt" : "rsdt", n);
	for (i = 0; i < n; i++) {
		const uint8_t *t = (const uint8_t *)(uintptr_t)(xsdt ? rt_rd64(sdt + 36 + i * 8) : rt_rd32(sdt + 36 + i * 4));

		rt_printf(" %c%c%c%c", t[0], t[1], t[2], t[3]);
		sums &= sum_ok(t, rt_rd32(t + 4));
		if (!memcmp(t, "FACP", 4))
			fadt = t;
	}
	rt_puts("\n");
	if (!fadt) {
		rt_puts("power: no FADT\n");
		return RT_EXIT_FAIL;
	}
	dsdt = (const uint8_t *)(uintptr_t)(rt_rd32(fadt + 4) >= 148 && rt_rd64(fadt + 140) ? rt_rd64(fadt + 140) :
					     rt_rd32(fadt + 40));
	sums &= !memcmp(dsdt, "DSDT", 4) && sum_ok(dsdt, rt_rd32(dsdt + 4));
	pm1a_cnt = rt_rd32(fadt + 64);
	if (rt_rd32(fadt + 4) >= 129) {
		reset_space = fadt[116];
		memcpy(&reset_addr, fadt + 120, 8);
		reset_value = fadt[128];
	}
	slp_typ = s5_slp_typ(dsdt);
	rt_printf("power: pm1a_cnt %#x, reset register space %u at %#lx value %u, s5 slp_typ %d\n", pm1a_cnt,
		  reset_space, reset_addr, reset_value, slp_typ);
	rt_printf("power: acpi checksums %s\n", sums ? "ok" : "BAD");
	if (!sums)
		return RT_EXIT_FAIL;

	if (mode_acpi_off) {
		if (!pm1a_cnt || slp_typ < 0) {
			rt_puts("power: no way to power off\n");
			return RT_EXIT_FAIL;
		}
		rt_puts("power: entering S5\n");
		/* As Linux does: SLP_TYP first, then SLP_TYP with SLP_EN. */
		__asm__ volatile("outw %0, %1" : : "a"((uint16_t)(slp_typ << 10)), "Nd"((uint16_t)pm1a_cnt));
		__asm__ volatile("outw %0, %1" : : "a"((uint16_t)(slp_typ << 10 | 1 << 13)), "Nd"((uint16_t)pm1a_cnt));
		goto still_alive;
	}
	if (mode_acpi_reset) {
		if (reset_space != 1 || !reset_addr) {	/* 1: system I/O space */
			rt_puts("power: no I/O reset register\n");
			return RT_EXIT_FAIL;
		}
		rt_puts("power: writing the reset register\n");
		outb((uint16_t)reset_addr, reset_value);
		goto still_alive;
	}
	return 0;

still_alive:
	/* Stopping the VM is not instantaneous: give it time (in ring 3) before calling it a failure. */
	rt_user_call(linger, 0);
	rt_puts("power: still running\n");
	return RT_EXIT_FAIL;
}
