/* The platform devices every machine has, whatever its configuration: the COM1 console, the
 * i8042, the boot timer, the ACPI PM registers and the test-exit port. machine.c creates them
 * first; the fuzz targets build the same set on a KVM-less VM (vm_init) and reach it through
 * the buses as a guest does. */
#ifndef CAPSULE_VMM_DEVICES_PLATFORM_H
#define CAPSULE_VMM_DEVICES_PLATFORM_H

#include "../../lib/error.h"

struct vm;

/* Creates and registers each, in order (the console first, so that a later failure can already
 * be seen on it); on failure the ones made so far stay registered and go with the VM. */
int platform_devices_create(struct vm *vm, cap_err *err);

#endif
