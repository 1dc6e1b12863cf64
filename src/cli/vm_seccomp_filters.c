/* capsule vm seccomp-filters [--thread KIND]: the per-thread allow-lists, printed from the table
 * the VMM builds its filters from (src/vmm/sandbox/seccomp_table.c). */
#include <stdio.h>

#include "../vmm/sandbox/seccomp.h"
#include "commands.h"

int cli_vm_seccomp_filters(const struct cli_args *a, cap_err *err)
{
	return vmm_seccomp_print(stdout, cli_str(a, "thread"), err) < 0 ? -1 : 0;
}
