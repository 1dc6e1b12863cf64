/* The few AML constructs Capsule's DSDT needs: virtio-mmio devices under \_SB, each
 *   Device (VRnn) { Name (_HID, "LNRO0005") Name (_UID, nn)
 *                   Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, addr, size)
 *                                                     Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { gsi } }) }
 * "LNRO0005" is the ACPI ID Linux's virtio_mmio driver matches: kernels built without
 * VIRTIO_MMIO_CMDLINE_DEVICES (Debian's) find the devices this way. */
#ifndef CAPSULE_VMM_BOOT_ACPI_AML_H
#define CAPSULE_VMM_BOOT_ACPI_AML_H

#include <stddef.h>
#include <stdint.h>

struct acpi_mmio_device {
	uint64_t addr;   /* must lie below 4 GiB (Memory32Fixed) */
	uint32_t size;
	uint32_t gsi;
};

#define ACPI_MAX_MMIO_DEVICES 64

/* Encode a PkgLength for `len` bytes of content (the encoding's own bytes are added to it).
 * Writes 1-4 bytes to out; returns how many, or 0 when len is too large. */
size_t aml_pkglength(uint8_t *out, size_t len);

/* AML for Scope (\_SB) { the devices }. Returns the bytes written, or 0 when n is 0;
 * (size_t)-1 when cap is too small or a device is out of range. */
size_t aml_virtio_mmio_scope(uint8_t *out, size_t cap, const struct acpi_mmio_device *devs, int n);

#endif
