/* The input encoding of fuzz_platform_bus, shared with its seed generator. An input is one
 * flags byte, then a sequence of guest I/O exits (and a few host events), each:
 *
 *   op      bits 0-1 size 1/2/4/8, bit 2 write, bit 3 MMIO (else port I/O), bits 4-6 address
 *           mode, bit 7 repeated (a count byte follows the address: 1..256 elements)
 *   address mode 0-4: one byte, a signed offset from COM1, the i8042, the ACPI PM block, the
 *           test-exit port or the boot timer (so that both edges of every window are near);
 *           mode 5: 2 bytes (port) or 4 bytes (MMIO) little-endian; mode 6: 8 bytes
 *   data    on a write, size bytes (short input: zero-filled), the same for every element of
 *           a repeated access (so that filling a FIFO takes a short input)
 *
 * Mode 7 is a host event instead of an access: the next byte is 0 console input (a length byte
 * and the bytes follow), 1 a device reset, 2 a save/restore round trip now.
 *
 * The flags byte: bit 0 the loaded kernel is a Capsule test guest (the test-exit port armed);
 * bit 1 a save/restore round trip at the end; bit 2 check the reset every input starts with
 * (both checks are costly, so the fuzzer chooses how often). */
#ifndef CAPSULE_FUZZ_PLATFORM_H
#define CAPSULE_FUZZ_PLATFORM_H

#include <stdint.h>

#include "../../src/vmm/boot/layout.h"
#include "../../src/vmm/devices/acpi_pm.h"

#define FP_FLAG_TEST_GUEST 0x01
#define FP_FLAG_ROUNDTRIP 0x02
#define FP_FLAG_CHECK_RESET 0x04
#define FP_FLAG_CHECKS (FP_FLAG_ROUNDTRIP | FP_FLAG_CHECK_RESET)

#define FP_SIZE(n) ((n) == 1 ? 0 : (n) == 2 ? 1 : (n) == 4 ? 2 : 3)
#define FP_WRITE 0x04
#define FP_MMIO 0x08
#define FP_MODE(m) ((uint8_t)((m) << 4))
#define FP_REP 0x80

enum fp_mode { FP_AT_COM1, FP_AT_I8042, FP_AT_ACPI_PM, FP_AT_TEST_EXIT, FP_AT_BOOT_TIMER, FP_AT_ADDR32,
	       FP_AT_ADDR64, FP_HOST };
enum fp_host { FP_HOST_INPUT, FP_HOST_RESET, FP_HOST_ROUNDTRIP };

static const uint64_t fp_window_base[] = {
	[FP_AT_COM1] = PORT_COM1,
	[FP_AT_I8042] = PORT_I8042_DATA,
	[FP_AT_ACPI_PM] = ACPI_PM_PORT,
	[FP_AT_TEST_EXIT] = PORT_TEST_EXIT,
	[FP_AT_BOOT_TIMER] = MMIO_BOOT_TIMER_ADDR,
};

#endif
