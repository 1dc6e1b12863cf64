/* The vCPUs' exit counters (vcpu.h) as the API's metrics read them. */
#include <string.h>

#include "vcpu.h"

const char *const vcpu_exit_kind_names[VCPU_EXIT_KINDS] = {
	"io", "mmio", "hlt", "system_event", "shutdown", "internal_error", "fail_entry", "interrupted", "other",
};

void vcpu_exit_counts(const struct vcpu *v, int n, uint64_t *out)
{
	memset(out, 0, VCPU_EXIT_KINDS * sizeof(*out));
	for (int i = 0; v && i < n; i++)
		for (int k = 0; k < VCPU_EXIT_KINDS; k++)
			out[k] += __atomic_load_n(&v[i].exits[k], __ATOMIC_RELAXED);
}
