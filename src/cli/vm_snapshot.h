/* The --snapshot option of capsule vm run and capsule vm restore (src/cli/vm_snapshot.c). */
#ifndef CAPSULE_CLI_VM_SNAPSHOT_H
#define CAPSULE_CLI_VM_SNAPSHOT_H

#include "../vmm/run_snapshot.h"
#include "cli.h"

/* Every --snapshot value of a, parsed and checked (restored: the VM comes from a snapshot). */
int cli_vm_snapshots(const struct cli_args *a, bool restored, struct vmm_snapshot_at **out, int *n, cap_err *err);
void cli_vm_snapshots_free(struct vmm_snapshot_at *at, int n);

#endif
