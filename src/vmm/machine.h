/* The VM's lifecycle in separate steps, so that a restore can create the machine, put saved
 * state into it and start it without ever loading a kernel:
 *
 *   vm_create       KVM VM, guest memory, irqchip, PIT, every device (one ordered list), vCPUs
 *   vm_load_kernel  kernel command line, boot_load, ACPI tables, boot registers
 *   vm_start        the I/O thread and the vCPU threads                  CREATED -> RUNNING
 *   vm_pause        vCPUs parked after KVM_RUN, I/O thread quiesced       RUNNING -> PAUSED
 *   vm_resume       both released                                         PAUSED  -> RUNNING
 *   vm_destroy      threads stopped, devices destroyed, memory freed      any     -> STOPPED
 *
 * Every step but vm_destroy returns 0 or -errno with err filled; vm_destroy is safe on a
 * partly created VM (after a failed vm_create too). Call them from one thread (the owner);
 * vm_request_stop (vm.h) is the only entry point for other threads. */
#ifndef CAPSULE_VMM_MACHINE_H
#define CAPSULE_VMM_MACHINE_H

#include "../lib/error.h"
#include "config.h"
#include "vm.h"

/* Validates cfg (vm_config_validate plus host limits) and keeps a deep copy in vm->cfg. */
int vm_create(struct vm *vm, const struct vm_config *cfg, cap_err *err);
int vm_load_kernel(struct vm *vm, cap_err *err);
int vm_start(struct vm *vm, cap_err *err);
/* Returns once every vCPU thread is parked (or has ended) and the I/O thread is parked
 * between batches: nothing runs guest code or touches device state until vm_resume. */
int vm_pause(struct vm *vm, cap_err *err);
int vm_resume(struct vm *vm, cap_err *err);
void vm_destroy(struct vm *vm);

/* For tests and debug output: how many vCPU threads are parked now. */
int vm_parked_vcpus(struct vm *vm);

#endif
