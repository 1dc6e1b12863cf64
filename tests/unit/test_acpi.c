/* ACPI tables and the PM device. The tables are parsed here from raw spec offsets (not
 * through acpi.c's structs) the way Linux finds them: scan 0xE0000-0xFFFFF for the RSDP on
 * 16-byte boundaries, follow the XSDT. The PM device is driven through a real port bus on a
 * minimal struct vm, with the values the tables announce. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "../../src/vmm/boot/acpi.h"
#include "../../src/vmm/boot/layout.h"
#include "../../src/vmm/devices/acpi_pm.h"
#include "../../src/vmm/vm.h"

#define MEM_SIZE (2u << 20)

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Linux's acpi_find_root_pointer over the BIOS area: signature, 20-byte checksum and, for
 * revision 2+, the extended checksum. Returns the guest address or 0. */
static uint64_t find_rsdp(const uint8_t *mem)
{
	for (uint64_t a = 0xE0000; a < 0x100000; a += 16) {
		const uint8_t *p = mem + a;
		if (memcmp(p, "RSD PTR ", 8) || sum8(p, 20))
			continue;
		if (p[15] >= 2 && sum8(p, rd32(p + 20)))
			continue;
		return a;
	}
	return 0;
}

/* A table at gpa with signature sig, a sane length and a zero checksum, or NULL. */
static const uint8_t *table_at(const uint8_t *mem, uint64_t gpa, const char *sig)
{
	if (gpa < 0xE0000 || gpa + 36 > 0x100000)
		return NULL;
	const uint8_t *t = mem + gpa;
	uint32_t len = rd32(t + 4);
	if (memcmp(t, sig, 4) || len < 36 || gpa + len > 0x100000 || sum8(t, len))
		return NULL;
	if (memcmp(t + 10, "CAPSUL", 6))
		return NULL;
	return t;
}

struct found {
	const uint8_t *fadt, *madt, *dsdt, *facs;
};

static int walk(const uint8_t *mem, struct found *f)
{
	memset(f, 0, sizeof(*f));
	uint64_t rsdp = find_rsdp(mem);
	CHECK_EQ(rsdp, ACPI_RSDP_ADDR);
	if (!rsdp)
		return -1;
	const uint8_t *r = mem + rsdp;
	CHECK_EQ(r[15], 2);           /* revision */
	CHECK_EQ(rd32(r + 20), 36);   /* length */
	CHECK(!memcmp(r + 9, "CAPSUL", 6));
	const uint8_t *xsdt = table_at(mem, rd64(r + 24), "XSDT");
	CHECK(xsdt != NULL);
	if (!xsdt)
		return -1;
	uint32_t n = (rd32(xsdt + 4) - 36) / 8;
	CHECK_EQ(rd32(xsdt + 4), 36 + n * 8);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = rd64(xsdt + 36 + 8 * i);
		if (a + 4 <= 0x100000 && !memcmp(mem + a, "FACP", 4))
			f->fadt = table_at(mem, a, "FACP");
		else if (a + 4 <= 0x100000 && !memcmp(mem + a, "APIC", 4))
			f->madt = table_at(mem, a, "APIC");
		else
			CHECK(!"unexpected XSDT entry");
	}
	CHECK(f->fadt != NULL);
	CHECK(f->madt != NULL);
	if (!f->fadt || !f->madt)
		return -1;
	CHECK_EQ(rd32(f->fadt + 40), 0);          /* 32-bit DSDT unused when X_DSDT is set */
	f->dsdt = table_at(mem, rd64(f->fadt + 140), "DSDT");
	CHECK(f->dsdt != NULL);
	uint64_t facs = rd64(f->fadt + 132);      /* X_FIRMWARE_CTRL */
	CHECK_EQ(facs % 64, 0);
	CHECK(facs >= 0xE0000 && facs + 64 <= 0x100000);
	if (facs >= 0xE0000 && facs + 64 <= 0x100000 && !memcmp(mem + facs, "FACS", 4) && rd32(mem + facs + 4) == 64)
		f->facs = mem + facs;
	CHECK(f->facs != NULL);
	return f->dsdt && f->facs ? 0 : -1;
}

/* The SLP_TYPa value of \_S5 in the DSDT's AML, or -1. Accepts the encodings a package
 * element can use for a small integer (ZeroOp, OneOp, BytePrefix). */
static int dsdt_s5_typ(const uint8_t *dsdt)
{
	uint32_t len = rd32(dsdt + 4);
	for (uint32_t i = 36; i + 9 <= len; i++) {
		const uint8_t *p = dsdt + i;
		if (p[0] != 0x08 || memcmp(p + 1, "_S5_", 4) || p[5] != 0x12)
			continue;
		if (p[6] & 0xC0)               /* multi-byte PkgLength: not what we write */
			return -1;
		if (i + 6 + p[6] > len || p[7] < 1)
			return -1;
		switch (p[8]) {
		case 0x00: return 0;
		case 0x01: return 1;
		case 0x0A: return p[9];
		default: return -1;
		}
	}
	return -1;
}

static void check_tables(int ncpus)
{
	uint8_t *mem = calloc(1, MEM_SIZE);
	struct guest_mem m;
	cap_err err = { 0 };
	struct found f;

	CHECK(mem != NULL);
	if (!mem)
		return;
	guest_mem_init_buffer(&m, mem, MEM_SIZE);
	CHECK_EQ(acpi_write_tables(&m, ncpus, NULL, 0, &err), 0);
	CHECK(!err.set);
	if (walk(mem, &f) < 0)
		goto out;

	/* FADT */
	const uint8_t *fadt = f.fadt;
	CHECK_EQ(rd32(fadt + 4), 276);
	CHECK_EQ(fadt[8], 6);
	uint32_t flags = rd32(fadt + 112);
	CHECK(!(flags & (1u << 20)));           /* not HW_REDUCED_ACPI: see docs/acpi.md */
	CHECK(flags & (1u << 10));              /* RESET_REG_SUP */
	CHECK(flags & (1u << 4));               /* no fixed power button */
	CHECK_EQ(rd16(fadt + 46), ACPI_SCI_IRQ);
	CHECK_EQ(rd32(fadt + 48), 0);           /* SMI_CMD: always in ACPI mode */
	CHECK_EQ(rd32(fadt + 56), ACPI_PM_PORT + ACPI_PM1_EVT_OFF);
	CHECK_EQ(rd32(fadt + 64), ACPI_PM_PORT + ACPI_PM1_CNT_OFF);
	CHECK_EQ(fadt[88], 4);                  /* PM1_EVT_LEN */
	CHECK_EQ(fadt[89], 2);                  /* PM1_CNT_LEN */
	CHECK_EQ(rd32(fadt + 60) | rd32(fadt + 68) | rd32(fadt + 76) | rd32(fadt + 80), 0); /* no PM1b, timer, GPE0 */
	uint16_t boot_arch = rd16(fadt + 109);
	CHECK(!(boot_arch & (1u << 1)));        /* no 8042 probing */
	CHECK(boot_arch & (1u << 2));           /* no VGA */
	/* X_PM1a_EVT_BLK and X_PM1a_CNT_BLK: system I/O, widths matching the 32-bit lengths */
	CHECK_EQ(fadt[148], 1);
	CHECK_EQ(fadt[149], 32);
	CHECK_EQ(rd64(fadt + 152), ACPI_PM_PORT + ACPI_PM1_EVT_OFF);
	CHECK_EQ(fadt[172], 1);
	CHECK_EQ(fadt[173], 16);
	CHECK_EQ(rd64(fadt + 176), ACPI_PM_PORT + ACPI_PM1_CNT_OFF);
	/* RESET_REG: system I/O, 8 bits */
	CHECK_EQ(fadt[116], 1);
	CHECK_EQ(fadt[117], 8);
	CHECK_EQ(fadt[118], 0);
	CHECK_EQ(rd64(fadt + 120), ACPI_PM_PORT + ACPI_PM_RESET_OFF);
	CHECK_EQ(fadt[128], ACPI_PM_RESET_VALUE);

	/* DSDT: \_S5 with SLP_TYPa 5 */
	CHECK_EQ(f.dsdt[8], 2);
	CHECK_EQ(dsdt_s5_typ(f.dsdt), ACPI_SLP_TYP_S5);

	/* MADT */
	const uint8_t *madt = f.madt;
	uint32_t mlen = rd32(madt + 4);
	CHECK_EQ(rd32(madt + 36), LAPIC_ADDR);
	int nlapic = 0, nioapic = 0, nsci = 0, nother = 0;
	uint8_t seen[256] = { 0 };
	uint32_t off = 44;
	while (off + 2 <= mlen) {
		const uint8_t *e = madt + off;
		if (e[1] < 2 || off + e[1] > mlen) {
			CHECK(!"bad MADT entry length");
			break;
		}
		if (e[0] == 0 && e[1] == 8) {
			CHECK(rd32(e + 4) & 1);     /* enabled */
			CHECK(e[3] < ncpus);
			CHECK(!seen[e[3]]);
			seen[e[3]] = 1;
			nlapic++;
		} else if (e[0] == 1 && e[1] == 12) {
			CHECK_EQ(e[2], ncpus);      /* IOAPIC ID after the last CPU, as in the MP table */
			CHECK_EQ(rd32(e + 4), IOAPIC_ADDR);
			CHECK_EQ(rd32(e + 8), 0);
			nioapic++;
		} else if (e[0] == 2 && e[1] == 10) {
			CHECK_EQ(e[2], 0);          /* ISA */
			CHECK_EQ(e[3], ACPI_SCI_IRQ);
			CHECK_EQ(rd32(e + 4), ACPI_SCI_IRQ);
			CHECK_EQ(rd16(e + 8), 0x000D); /* active high, level */
			nsci++;
		} else {
			nother++;
		}
		off += e[1];
	}
	CHECK_EQ(off, mlen);
	CHECK_EQ(nlapic, ncpus);
	CHECK_EQ(nioapic, 1);
	CHECK_EQ(nsci, 1);
	CHECK_EQ(nother, 0);
out:
	free(mem);
}

static void test_tables_1cpu(void) { check_tables(1); }
static void test_tables_2cpu(void) { check_tables(2); }
static void test_tables_4cpu(void) { check_tables(4); }
static void test_tables_64cpu(void) { check_tables(64); }
static void test_tables_max_cpus(void) { check_tables(254); }

static void test_tables_refused(void)
{
	uint8_t *mem = calloc(1, MEM_SIZE);
	struct guest_mem m;
	cap_err err = { 0 };

	CHECK(mem != NULL);
	if (!mem)
		return;
	guest_mem_init_buffer(&m, mem, MEM_SIZE);
	CHECK_EQ(acpi_write_tables(&m, 0, NULL, 0, &err), -EINVAL);
	CHECK(err.set && strstr(err.msg, "vCPUs"));
	cap_err_clear(&err);
	CHECK_EQ(acpi_write_tables(&m, 255, NULL, 0, &err), -EINVAL);
	cap_err_clear(&err);
	/* RAM that ends inside the BIOS area */
	guest_mem_init_buffer(&m, mem, 0xE0100);
	CHECK(acpi_write_tables(&m, 1, NULL, 0, &err) < 0);
	CHECK(err.set && strstr(err.msg, "ACPI"));
	CHECK_EQ(find_rsdp(mem), 0);            /* nothing half-written */
	free(mem);
}

/* ---- the PM device, through the port bus ---- */

static void fake_vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->lock, NULL);
	vm->stop_fd = -1;
	vm->stop_reason = VM_STOP_NONE;
	bus_init(&vm->pio, "pio");
}

static void fake_vm_free(struct vm *vm)
{
	vm_devices_destroy(&vm->devices);
	bus_free(&vm->pio);
	pthread_mutex_destroy(&vm->lock);
}

static void out16(struct vm *vm, uint16_t port, uint16_t v)
{
	uint8_t d[2];
	memcpy(d, &v, 2);
	CHECK(bus_access(&vm->pio, port, d, 2, true));
}

static void out8(struct vm *vm, uint16_t port, uint8_t v)
{
	CHECK(bus_access(&vm->pio, port, &v, 1, true));
}

static uint16_t in16(struct vm *vm, uint16_t port)
{
	uint8_t d[2] = { 0 };
	CHECK(bus_access(&vm->pio, port, d, 2, false));
	return rd16(d);
}

static void test_pm_registers(void)
{
	struct vm vm;
	cap_err err = { 0 };
	const uint16_t sts = ACPI_PM_PORT + ACPI_PM1_EVT_OFF, en = sts + 2, cnt = ACPI_PM_PORT + ACPI_PM1_CNT_OFF;
	const uint16_t rst = ACPI_PM_PORT + ACPI_PM_RESET_OFF;

	fake_vm_init(&vm);
	CHECK_EQ(acpi_pm_register(&vm, &err), 0);
	CHECK_EQ(vm.devices.n, 1);

	/* What ACPICA does at boot and before S5, none of which stops the VM. */
	CHECK(in16(&vm, cnt) & ACPI_PM1_CNT_SCI_EN);
	out16(&vm, sts, 0xffff);                  /* clear all status bits */
	CHECK_EQ(in16(&vm, sts), 0);
	out16(&vm, en, 0x0020);                   /* GBL_EN must stick or ACPICA disables the lock */
	CHECK_EQ(in16(&vm, en), 0x0020);
	out16(&vm, cnt, (uint16_t)(ACPI_PM1_CNT_SCI_EN | (ACPI_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT)));
	CHECK_EQ(in16(&vm, cnt) & ACPI_PM1_CNT_SLP_EN, 0);
	CHECK_EQ((in16(&vm, cnt) & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT, ACPI_SLP_TYP_S5);
	out16(&vm, cnt, (uint16_t)(ACPI_PM1_CNT_SLP_EN | (1 << ACPI_PM1_CNT_SLP_TYP_SHIFT))); /* S1: not here */
	out8(&vm, rst, 0);
	out8(&vm, rst, 0xff);
	uint8_t wide[4] = { 0x01, 0x01, 0x01, 0x01 };   /* a dword write over PM1_STS/PM1_EN */
	CHECK(bus_access(&vm.pio, sts, wide, 4, true));
	CHECK_EQ(vm.stop_reason, VM_STOP_NONE);

	/* S5 as a word write (ACPICA) */
	out16(&vm, cnt, (uint16_t)(ACPI_PM1_CNT_SLP_EN | (ACPI_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT)));
	CHECK_EQ(vm.stop_reason, VM_STOP_POWEROFF);
	CHECK_EQ(in16(&vm, cnt) & ACPI_PM1_CNT_SLP_EN, 0); /* SLP_EN reads 0 */

	/* S5 as a byte write to the high byte */
	vm.stop_reason = VM_STOP_NONE;
	out8(&vm, cnt + 1, (uint8_t)((ACPI_PM1_CNT_SLP_EN | (ACPI_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT)) >> 8));
	CHECK_EQ(vm.stop_reason, VM_STOP_POWEROFF);

	/* Reset register */
	vm.stop_reason = VM_STOP_NONE;
	out8(&vm, rst, ACPI_PM_RESET_VALUE);
	CHECK_EQ(vm.stop_reason, VM_STOP_REBOOT);

	/* An access running past the device's end reads all-ones there and does not crash. */
	uint8_t tail[4] = { 0 };
	CHECK(bus_access(&vm.pio, ACPI_PM_PORT + ACPI_PM_LEN - 1, tail, 4, false));
	CHECK_EQ(tail[1], 0xff);

	/* Ports are taken: a second registration fails cleanly (and is still freed). */
	cap_err_clear(&err);
	CHECK(acpi_pm_register(&vm, &err) < 0);
	CHECK(err.set);
	fake_vm_free(&vm);
}

/* The tables and the device agree: do exactly what Linux does with the values the FADT
 * and the DSDT announce, and check the VM stops for the right reason. */
static void test_tables_drive_device(void)
{
	uint8_t *mem = calloc(1, MEM_SIZE);
	struct guest_mem m;
	struct vm vm;
	cap_err err = { 0 };
	struct found f;

	CHECK(mem != NULL);
	if (!mem)
		return;
	guest_mem_init_buffer(&m, mem, MEM_SIZE);
	fake_vm_init(&vm);
	CHECK_EQ(acpi_write_tables(&m, 2, NULL, 0, &err), 0);
	CHECK_EQ(acpi_pm_register(&vm, &err), 0);
	if (walk(mem, &f) == 0) {
		/* acpi_hw_legacy_sleep(S5): PM1a_CNT = SLP_TYPa << 10, then | SLP_EN */
		uint16_t cnt_port = (uint16_t)rd64(f.fadt + 176);
		int typ = dsdt_s5_typ(f.dsdt);
		out16(&vm, cnt_port, (uint16_t)(ACPI_PM1_CNT_SCI_EN | (typ << 10)));
		CHECK_EQ(vm.stop_reason, VM_STOP_NONE);
		out16(&vm, cnt_port, (uint16_t)(ACPI_PM1_CNT_SCI_EN | (typ << 10) | (1 << 13)));
		CHECK_EQ(vm.stop_reason, VM_STOP_POWEROFF);
		/* acpi_reset(): 8-bit write of RESET_VALUE to RESET_REG */
		vm.stop_reason = VM_STOP_NONE;
		out8(&vm, (uint16_t)rd64(f.fadt + 120), f.fadt[128]);
		CHECK_EQ(vm.stop_reason, VM_STOP_REBOOT);
	}
	fake_vm_free(&vm);
	free(mem);
}

int main(void)
{
	RUN(test_tables_1cpu);
	RUN(test_tables_2cpu);
	RUN(test_tables_4cpu);
	RUN(test_tables_64cpu);
	RUN(test_tables_max_cpus);
	RUN(test_tables_refused);
	RUN(test_pm_registers);
	RUN(test_tables_drive_device);
	UNIT_EXIT();
}
