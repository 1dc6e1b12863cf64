/* Capabilities through libcap: the bounding set is reduced while we are still root,
 * the other sets after the uid switch (PR_SET_KEEPCAPS keeps permitted across it). */
#include "caps.h"

#include <errno.h>
#include <stdio.h>
#include <sys/capability.h>
#include <sys/prctl.h>

static int kernel_last_cap(void)
{
	static int last = -1;
	if (last < 0) {
		FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
		if (!f || fscanf(f, "%d", &last) != 1)
			last = oci_cap_last();
		if (f)
			fclose(f);
	}
	return last;
}

/* A name this runtime knows but the running kernel does not: it cannot be granted. */
static int check_kernel_has(const struct oci_process *p, int last, cap_err *err)
{
	for (int s = 0; s < CAPSET_COUNT; s++)
		for (int c = last + 1; c < 64; c++)
			if (p->caps[s] & (1ULL << c))
				return cap_errf(err, EINVAL, "process.capabilities: %s is not known to this kernel",
						oci_cap_name(c) ? oci_cap_name(c) : "?");
	return 0;
}

int oci_caps_drop_bounding(const struct oci_process *p, cap_err *err)
{
	int last = kernel_last_cap();
	int r = check_kernel_has(p, last, err);
	if (r < 0)
		return r;
	for (int c = 0; c <= last && c < 64; c++) {
		if (p->caps[CAPSET_BOUNDING] & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return cap_errf(err, errno, "process.capabilities.bounding: cannot drop %s",
					oci_cap_name(c) ? oci_cap_name(c) : "?");
	}
	return 0;
}

int oci_caps_apply(const struct oci_process *p, cap_err *err)
{
	static const cap_flag_t flags[] = { CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE };
	static const int sets[] = { CAPSET_EFFECTIVE, CAPSET_PERMITTED, CAPSET_INHERITABLE };
	int last = kernel_last_cap(), r = 0;
	cap_t caps = cap_init();

	if (!caps)
		return cap_errf(err, errno, "cap_init");
	for (int s = 0; s < 3; s++)
		for (int c = 0; c <= last && c < 64; c++) {
			if (!(p->caps[sets[s]] & (1ULL << c)))
				continue;
			cap_value_t v = c;
			cap_set_flag(caps, flags[s], 1, &v, CAP_SET);
		}
	if (cap_set_proc(caps) < 0) {
		r = cap_errf(err, errno, "process.capabilities: cannot set");
		goto out;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int c = 0; c <= last && c < 64; c++)
		if (p->caps[CAPSET_AMBIENT] & (1ULL << c))
			/* Raising fails for caps not in permitted+inheritable; runc ignores it too. */
			prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
out:
	cap_free(caps);
	return r;
}
