/* MP table (Intel MP spec 1.4): where Linux looks for it, checksums, and one processor entry
 * per vCPU with the BSP flagged, the ISA bus, the IOAPIC and the interrupt entries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"
#include "test_boot_fixtures.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s += *p++;
	return s;
}

static uint16_t u16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Check the table for n CPUs the way Linux's mpparse does. */
static void check_table(struct guest_mem *m, int n)
{
	/* Linux scans 639 KiB .. 640 KiB on 16-byte boundaries for "_MP_" */
	const uint8_t *base = guest_mem_ptr(m, 0x9FC00, 0x400);
	const uint8_t *mpf = NULL;
	for (int off = 0; off < 0x400; off += 16)
		if (memcmp(base + off, "_MP_", 4) == 0) {
			mpf = base + off;
			break;
		}
	CHECK(mpf != NULL);
	if (!mpf)
		return;
	CHECK_EQ(mpf[8], 1);            /* length in paragraphs */
	CHECK_EQ(mpf[9], 4);            /* spec 1.4 */
	CHECK_EQ(sum(mpf, 16), 0);
	CHECK_EQ(mpf[11], 0);           /* feature 1: a configuration table follows, no default config */
	uint32_t physptr = u32(mpf + 4);
	const uint8_t *t = guest_mem_ptr(m, physptr, 44);
	CHECK(t && memcmp(t, "PCMP", 4) == 0);
	uint16_t len = u16(t + 4);
	t = guest_mem_ptr(m, physptr, len);
	CHECK(t != NULL);
	CHECK(physptr + len <= 0x100000);
	CHECK_EQ(t[6], 4);
	CHECK_EQ(sum(t, len), 0);
	CHECK_EQ(u32(t + 36), 0xFEE00000u);
	uint16_t count = u16(t + 34);
	CHECK_EQ(count, n + 1 + 1 + 16 + 2);

	const uint8_t *e = t + 44, *end = t + len;
	int cpus = 0, bsp = 0, buses = 0, ioapics = 0, irqs = 0, extint = 0, nmi = 0;
	uint16_t irq_seen = 0;
	for (int i = 0; i < count && e < end; i++) {
		switch (e[0]) {
		case 0:
			CHECK_EQ(e[1], cpus); /* APIC IDs 0..n-1 in order */
			CHECK(e[3] & 1);      /* enabled */
			if (e[3] & 2)
				bsp++;
			if (cpus == 0)
				CHECK(e[3] & 2);
			cpus++;
			e += 20;
			break;
		case 1:
			CHECK(memcmp(e + 2, "ISA   ", 6) == 0);
			CHECK_EQ(e[1], 0);
			buses++;
			e += 8;
			break;
		case 2:
			CHECK_EQ(e[1], n); /* IOAPIC ID after the last CPU */
			CHECK(e[3] & 1);
			CHECK_EQ(u32(e + 4), 0xFEC00000u);
			ioapics++;
			e += 8;
			break;
		case 3:
			CHECK_EQ(e[1], 0); /* INT */
			CHECK_EQ(e[4], 0); /* ISA bus */
			CHECK_EQ(e[6], n); /* to our IOAPIC */
			CHECK_EQ(e[5], e[7]); /* IRQ n on pin n */
			irq_seen |= (uint16_t)(1u << e[5]);
			irqs++;
			e += 8;
			break;
		case 4:
			if (e[1] == 3) { /* ExtINT -> LINT0 */
				CHECK_EQ(e[7], 0);
				extint++;
			} else if (e[1] == 1) { /* NMI -> LINT1 */
				CHECK_EQ(e[7], 1);
				nmi++;
			}
			e += 8;
			break;
		default:
			CHECK(!"unknown entry type");
			e = end;
		}
	}
	CHECK(e == end);
	CHECK_EQ(cpus, n);
	CHECK_EQ(bsp, 1);
	CHECK_EQ(buses, 1);
	CHECK_EQ(ioapics, 1);
	CHECK_EQ(irqs, 16);
	CHECK_EQ(irq_seen, 0xffff);
	CHECK_EQ(extint, 1);
	CHECK_EQ(nmi, 1);
}

static void with_cpus(int n)
{
	struct guest_mem m;
	tf_mem(&m, 64);
	size_t len;
	uint8_t *img = tf_make_elf(&(struct tf_elf){ 0 }, &len);
	struct boot_config cfg = { .kernel_path = "k", .ncpus = n };
	struct boot_info bi;
	cap_err err = { 0 };
	CHECK_EQ(boot_load_image(&m, img, len, &cfg, &bi, &err), 0);
	check_table(&m, n);
	free(img);
	guest_mem_free(&m);
}

static void test_mptable_1cpu(void) { with_cpus(1); }
static void test_mptable_2cpus(void) { with_cpus(2); }
static void test_mptable_4cpus(void) { with_cpus(4); }

/* The largest count the 8-bit APIC IDs allow still fits below 1 MiB. */
static void test_mptable_max(void)
{
	struct guest_mem m;
	tf_mem(&m, 4);
	CHECK_EQ(mptable_write(&m, BOOT_MAX_CPUS), 0);
	check_table(&m, BOOT_MAX_CPUS);
	CHECK(mptable_size(BOOT_MAX_CPUS) <= 0x100000 - BOOT_MPTABLE_ADDR);
	CHECK_EQ(mptable_write(&m, BOOT_MAX_CPUS + 1), -EINVAL);
	CHECK_EQ(mptable_write(&m, 0), -EINVAL);
	guest_mem_free(&m);
}

int main(void)
{
	RUN(test_mptable_1cpu);
	RUN(test_mptable_2cpus);
	RUN(test_mptable_4cpus);
	RUN(test_mptable_max);
	UNIT_EXIT();
}
