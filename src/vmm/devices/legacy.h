/* Small legacy devices: the i8042 reset line, the test-exit port and the boot timer. Each
 * registers itself on the VM with its ops (device.h). */
#ifndef CAPSULE_VMM_DEVICES_LEGACY_H
#define CAPSULE_VMM_DEVICES_LEGACY_H

#include "../../lib/error.h"

struct vm;

/* i8042 at 0x60/0x64: enough for Linux's probe and for `reboot` (command 0xFE pulses reset). */
int i8042_create(struct vm *vm, cap_err *err);
/* Queue Ctrl+Alt+Del's make codes on the keyboard (Linux's reaction: reboot through init). */
int i8042_send_ctrl_alt_del(struct vm *vm, cap_err *err);
/* Port 0xF4: a Capsule test guest ends the VM with the value written. Inert until armed. */
int test_exit_create(struct vm *vm, cap_err *err);
/* The loaded kernel is a Capsule test guest: the port works from now on. */
void test_exit_arm(struct vm *vm);
/* MMIO 0xD0000000: the guest writes 123 when its init has started (Firecracker's convention). */
int boot_timer_create(struct vm *vm, cap_err *err);

#endif
