/* ACPI fixed-hardware power management registers, just enough for S5 (poweroff) and the
 * FADT reset register (reboot). The FADT written by boot/acpi.c points at these ports.
 *
 *   ACPI_PM_PORT + 0  PM1a_STS  (16 bit, write 1 to clear; nothing ever sets a bit)
 *   ACPI_PM_PORT + 2  PM1a_EN   (16 bit, read/write storage so ACPICA's enable bits stick)
 *   ACPI_PM_PORT + 4  PM1a_CNT  (16 bit: SCI_EN reads 1; SLP_EN with SLP_TYP 5 powers off)
 *   ACPI_PM_PORT + 6  RESET_REG (8 bit: writing ACPI_PM_RESET_VALUE reboots)
 *
 * 0x600 is outside every legacy ISA/VGA range a guest might probe (0x3C0 is the VGA
 * attribute controller), and it is where Cloud Hypervisor's power device lives too. */
#ifndef CAPSULE_VMM_DEVICES_ACPI_PM_H
#define CAPSULE_VMM_DEVICES_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "../../lib/error.h"

#define ACPI_PM_PORT        0x600
#define ACPI_PM_LEN         8
#define ACPI_PM1_EVT_OFF    0   /* PM1a event block: status then enable */
#define ACPI_PM1_EVT_LEN    4
#define ACPI_PM1_CNT_OFF    4
#define ACPI_PM1_CNT_LEN    2
#define ACPI_PM_RESET_OFF   6
#define ACPI_PM_RESET_VALUE 0x01

/* PM1 control register bits (ACPI 6.x, 4.8.3.2.1). */
#define ACPI_PM1_CNT_SCI_EN       (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN       (1u << 13)

/* The SLP_TYP value the DSDT's \_S5 package announces. */
#define ACPI_SLP_TYP_S5 5

struct vm;

/* Register the registers on vm->pio; a guest S5 request ends the VM with VM_STOP_POWEROFF,
 * a reset-register write with VM_STOP_REBOOT. The device is freed at VM teardown. */
int acpi_pm_register(struct vm *vm, cap_err *err);

#endif
