/* `capsule vm run`: create a VM from a config, run it to its end, report why it ended. */
#ifndef CAPSULE_VMM_RUN_H
#define CAPSULE_VMM_RUN_H

#include "../lib/error.h"
#include "vm.h"

/* Returns capsule's exit code (0 after a clean poweroff/reboot), or fills err and returns -1. */
int vmm_run(const struct vm_config *cfg, cap_err *err);

#endif
