/* Finding ACPI tables the way a kernel does: the RSDP from boot_params.acpi_rsdp_addr (0x70) or a
 * scan of 0xe0000-0xfffff, then the XSDT (or RSDT). No checksum checks here: guests that test the
 * tables themselves (power.c) do that. */
#include "rt.h"

#define BP_ACPI_RSDP_ADDR 0x070


const uint8_t *rt_acpi_rsdp(void)
{
	uint64_t a;
	uintptr_t p;

	memcpy(&a, rt_boot_params() + BP_ACPI_RSDP_ADDR, 8);
	if (a && !memcmp((const void *)(uintptr_t)a, "RSD PTR ", 8))
		return (const uint8_t *)(uintptr_t)a;
	for (p = 0xe0000; p < 0x100000; p += 16)
		if (!memcmp((const void *)p, "RSD PTR ", 8))
			return (const uint8_t *)p;
	return NULL;
}

const uint8_t *rt_acpi_table(const char *sig)
{
	const uint8_t *rsdp = rt_acpi_rsdp(), *sdt, *fadt;
	uint32_t n, i, entry;
	int xsdt;

	if (!rsdp)
		return NULL;
	xsdt = rsdp[15] >= 2 && rt_rd64(rsdp + 24);
	sdt = (const uint8_t *)(uintptr_t)(xsdt ? rt_rd64(rsdp + 24) : rt_rd32(rsdp + 16));
	entry = xsdt ? 8 : 4;
	n = (rt_rd32(sdt + 4) - 36) / entry;
	if (!memcmp(sig, "DSDT", 4)) {
		fadt = rt_acpi_table("FACP");
		if (!fadt)
			return NULL;
		return (const uint8_t *)(uintptr_t)(rt_rd32(fadt + 4) >= 148 && rt_rd64(fadt + 140) ? rt_rd64(fadt + 140)
												 : rt_rd32(fadt + 40));
	}
	for (i = 0; i < n; i++) {
		const uint8_t *t = (const uint8_t *)(uintptr_t)(xsdt ? rt_rd64(sdt + 36 + i * 8) : rt_rd32(sdt + 36 + i * 4));

		if (!memcmp(t, sig, 4))
			return t;
	}
	return NULL;
}
