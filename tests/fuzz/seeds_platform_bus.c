/* Writes the seed corpus of fuzz_platform_bus into the directory argv[1]: what real guests do
 * with the platform devices (Linux's 8250 and i8042 probes, console output and input, an ACPI
 * poweroff and reset, a test guest's exit, the boot-timer poke), in the encoding of
 * fuzz_platform.h. Built by tests/fuzz/run with the target's sources. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_platform.h"

static uint8_t buf[16384];
static size_t len;

static void byte(uint8_t b)
{
	if (len == sizeof(buf)) {
		fprintf(stderr, "seed too long\n");
		exit(1);
	}
	buf[len++] = b;
}

/* An access at window + off; data (size bytes, little-endian) for writes. */
static void io(int mode, int off, int size, bool mmio, bool write, uint64_t v)
{
	byte((uint8_t)(FP_SIZE(size) | (write ? FP_WRITE : 0) | (mmio ? FP_MMIO : 0) | FP_MODE(mode)));
	byte((uint8_t)(int8_t)off);
	if (write)
		for (int i = 0; i < size; i++)
			byte((uint8_t)(v >> (8 * i)));
}

static void outb(int mode, int off, uint8_t v) { io(mode, off, 1, false, true, v); }
static void inb(int mode, int off) { io(mode, off, 1, false, false, 0); }

/* `rep outsb` of n (1..256) copies of v to one port. */
static void outsb(int mode, int off, uint8_t v, size_t n)
{
	byte((uint8_t)(FP_SIZE(1) | FP_WRITE | FP_MODE(mode) | FP_REP));
	byte((uint8_t)(int8_t)off);
	byte((uint8_t)(n - 1));
	byte(v);
}

static void puts_com1(const char *s)
{
	while (*s)
		outb(FP_AT_COM1, 0, (uint8_t)*s++);
}

static void host(enum fp_host ev)
{
	byte(FP_MODE(FP_HOST));
	byte((uint8_t)ev);
}

static void start(uint8_t flags)
{
	len = 0;
	byte(flags);
}

static void put(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	const char *dir = argv[1];

	/* Linux's 8250 autoconfig and setup: scratch, loopback, divisor, FIFO, IER, IIR, output. */
	start(0);
	outb(FP_AT_COM1, 7, 0x55);
	inb(FP_AT_COM1, 7);
	outb(FP_AT_COM1, 4, 0x1a); /* loopback, RTS, OUT2 */
	inb(FP_AT_COM1, 6);
	outb(FP_AT_COM1, 4, 0x08);
	outb(FP_AT_COM1, 3, 0x80); /* DLAB */
	outb(FP_AT_COM1, 0, 0x01);
	outb(FP_AT_COM1, 1, 0x00);
	inb(FP_AT_COM1, 0);
	outb(FP_AT_COM1, 3, 0x03); /* 8N1 */
	outb(FP_AT_COM1, 2, 0x07); /* FIFO on, both cleared */
	inb(FP_AT_COM1, 2);
	outb(FP_AT_COM1, 1, 0x03); /* RDI | THRI */
	inb(FP_AT_COM1, 2);
	inb(FP_AT_COM1, 5);
	puts_com1("hello\r\n");
	inb(FP_AT_COM1, 2);
	put(dir, "serial-setup");

	/* Console input typed on the host, read back by the guest; then a full FIFO in loopback. */
	start(FP_FLAG_CHECKS);
	outb(FP_AT_COM1, 1, 0x01);
	host(FP_HOST_INPUT);
	byte(3);
	byte('l');
	byte('s');
	byte('\r');
	for (int i = 0; i < 4; i++) {
		inb(FP_AT_COM1, 5);
		inb(FP_AT_COM1, 0);
	}
	outb(FP_AT_COM1, 4, 0x10);
	for (int i = 0; i < 5; i++)
		outsb(FP_AT_COM1, 0, 'x', 256);
	host(FP_HOST_ROUNDTRIP);
	inb(FP_AT_COM1, 0);
	outb(FP_AT_COM1, 2, 0x03);
	inb(FP_AT_COM1, 5);
	put(dir, "serial-fifo");

	/* A panicking kernel's console line (the panic watch). */
	start(0);
	puts_com1("Kernel panic - not syncing: VFS\n");
	put(dir, "serial-panic");

	/* Linux's i8042 probe: flush, read/write the CTR, self-tests, AUX loopback, then reboot. */
	start(0);
	inb(FP_AT_I8042, 4);
	inb(FP_AT_I8042, 0);
	outb(FP_AT_I8042, 4, 0x20);
	inb(FP_AT_I8042, 4);
	inb(FP_AT_I8042, 0);
	outb(FP_AT_I8042, 4, 0x60);
	outb(FP_AT_I8042, 0, 0x47);
	outb(FP_AT_I8042, 4, 0xaa);
	inb(FP_AT_I8042, 0);
	outb(FP_AT_I8042, 4, 0xa8);
	outb(FP_AT_I8042, 4, 0xd3);
	outb(FP_AT_I8042, 0, 0x5a);
	inb(FP_AT_I8042, 4);
	inb(FP_AT_I8042, 0);
	outb(FP_AT_I8042, 4, 0xa9);
	inb(FP_AT_I8042, 0);
	outb(FP_AT_I8042, 4, 0xd4);
	outb(FP_AT_I8042, 0, 0xf2);
	inb(FP_AT_I8042, 0);
	outb(FP_AT_I8042, 0, 0xed);
	inb(FP_AT_I8042, 0);
	outb(FP_AT_I8042, 4, 0xfe);
	put(dir, "i8042-probe");

	/* ACPICA: enable bits, SCI_EN check, S5 (SLP_TYP first, then with SLP_EN), then the reset register. */
	start(FP_FLAG_CHECKS);
	io(FP_AT_ACPI_PM, ACPI_PM1_EVT_OFF + 2, 2, false, true, 0x0100);
	io(FP_AT_ACPI_PM, ACPI_PM1_EVT_OFF, 2, false, true, 0xffff);
	io(FP_AT_ACPI_PM, ACPI_PM1_CNT_OFF, 2, false, false, 0);
	io(FP_AT_ACPI_PM, ACPI_PM1_CNT_OFF, 2, false, true, ACPI_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT);
	io(FP_AT_ACPI_PM, ACPI_PM1_CNT_OFF, 2, false, true,
	   ACPI_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_SLP_EN);
	io(FP_AT_ACPI_PM, 0, 8, false, false, 0);
	outb(FP_AT_ACPI_PM, ACPI_PM_RESET_OFF, ACPI_PM_RESET_VALUE);
	host(FP_HOST_RESET);
	io(FP_AT_ACPI_PM, 0, 4, false, false, 0);
	put(dir, "acpi-pm");

	/* A Capsule test guest: the boot-timer poke, then its exit status by byte and by dword. */
	start(FP_FLAG_TEST_GUEST | FP_FLAG_CHECKS);
	io(FP_AT_BOOT_TIMER, 0, 1, true, true, MMIO_BOOT_TIMER_MAGIC);
	io(FP_AT_BOOT_TIMER, 0, 4, true, false, 0);
	inb(FP_AT_TEST_EXIT, 0);
	outb(FP_AT_TEST_EXIT, 0, 3);
	io(FP_AT_TEST_EXIT, 0, 4, false, true, 0x1234);
	put(dir, "test-exit");

	/* A plain kernel poking the same port and a few unclaimed addresses. */
	start(0);
	io(FP_AT_TEST_EXIT, 0, 4, false, true, 7);
	io(FP_AT_TEST_EXIT, -1, 2, false, false, 0);
	io(FP_AT_COM1, 7, 4, false, false, 0);
	byte(FP_SIZE(8) | FP_MMIO | FP_MODE(FP_AT_ADDR64));
	for (int i = 0; i < 8; i++)
		byte(0xff);
	byte(FP_SIZE(4) | FP_MMIO | FP_MODE(FP_AT_ADDR32));
	byte(0x00), byte(0x00), byte(0xc0), byte(0xfe); /* the IOAPIC: KVM's, never an exit */
	put(dir, "unclaimed");
	return 0;
}
