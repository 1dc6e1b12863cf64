/* ACPI tables for Linux guests: RSDP -> XSDT -> FADT (+FACS, DSDT with \_S5) and MADT,
 * in the BIOS area below 1 MiB. They give the guest a way to power off (PM1a_CNT S5)
 * and to reboot (FADT reset register), both served by devices/acpi_pm.c, and enumerate
 * the vCPUs and the IOAPIC. Design and the reasons for each field: docs/acpi.md. */
#ifndef CAPSULE_VMM_BOOT_ACPI_H
#define CAPSULE_VMM_BOOT_ACPI_H

#include "../../lib/error.h"
#include "../memory.h"
#include "acpi_aml.h"

/* Where Linux's legacy scan (acpi_find_root_pointer: 0xE0000-0xFFFFF, 16-byte steps)
 * finds the RSDP; the loader's e820 map reserves [0x9FC00, 1 MiB). Boot loaders should
 * also pass this address in boot_params.acpi_rsdp_addr / hvm_start_info.rsdp_paddr. */
#define ACPI_RSDP_ADDR  0xE0000ULL
#define ACPI_AREA_END   0x100000ULL  /* every table lies in [ACPI_RSDP_ADDR, ACPI_AREA_END) */

#define ACPI_SCI_IRQ    9            /* ISA IRQ / GSI of the SCI; vm_alloc_irq() never hands it out */
#define ACPI_OEM_ID     "CAPSUL"

/* Write all tables for ncpus vCPUs (1..BOOT_MAX_CPUS) into guest RAM at ACPI_RSDP_ADDR; the
 * DSDT also describes the ndevs virtio-mmio devices (may be 0).
 * Returns 0, or a negative errno with err filled. */
int acpi_write_tables(struct guest_mem *m, int ncpus, const struct acpi_mmio_device *devs, int ndevs,
		      cap_err *err);

#endif
