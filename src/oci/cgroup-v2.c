/* Resources on the unified (v2) hierarchy. On a hybrid host only the controllers the
 * unified mount carries are written; the rest went to v1. */
#include "cgroup-v2.h"

#include "cgfile.h"
#include "cgroup-devices.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool v2_has(const char *dir, const char *ctrl)
{
	char buf[512];
	if (cg_read(dir, "cgroup.controllers", buf, sizeof(buf)) <= 0)
		return false;
	return cg_list_has(buf, ctrl);
}

/* Enable every available controller in each ancestor's subtree_control. */
int cg_v2_enable_controllers(const char *mnt, const char *path, size_t *first_made, cap_err *err)
{
	char dir[PATH_MAX], avail[512], want[600];
	snprintf(dir, sizeof(dir), "%s", mnt);
	const char *p = path;
	for (;;) {
		if (cg_read(dir, "cgroup.controllers", avail, sizeof(avail)) <= 0)
			return 0;
		want[0] = 0;
		char *save = NULL;
		for (char *c = strtok_r(avail, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
			strncat(want, "+", sizeof(want) - strlen(want) - 1);
			strncat(want, c, sizeof(want) - strlen(want) - 1);
			strncat(want, " ", sizeof(want) - strlen(want) - 1);
		}
		if (*want) {
			cap_err tmp = { 0 };
			/* Failure (e.g. a process in an inner node) only limits what can be set. */
			cg_write(dir, "cgroup.subtree_control", want, &tmp);
		}
		while (*p == '/')
			p++;
		const char *next = strchr(p, '/');
		if (!next)
			break;
		size_t len = strlen(dir);
		snprintf(dir + len, sizeof(dir) - len, "/%.*s", (int)(next - p), p);
		if (mkdir(dir, 0755) == 0) {
			if (!*first_made)
				*first_made = strlen(dir);
		} else if (errno != EEXIST) {
			return cap_errf(err, errno, "cgroup: cannot create %s", dir);
		}
		p = next;
	}
	return 0;
}

/* runc's conversion of v1 shares [2, 262144] to v2 weight [1, 10000]. */
static unsigned long long shares_to_weight(unsigned long long s)
{
	if (!s)
		return 0;
	return 1 + ((s - 2) * 9999) / 262142;
}

int cg_v2_apply(const char *dir, const struct oci_resources *r, bool hybrid, cap_err *err)
{
	int ret;
	char buf[64];

	if (!hybrid && v2_has(dir, "memory")) {
		if (r->mem_limit != -1) {
			if (r->mem_limit > 0)
				snprintf(buf, sizeof(buf), "%lld", (long long)r->mem_limit);
			else
				strcpy(buf, "max");
			if ((ret = cg_write(dir, "memory.max", buf, err)) < 0)
				return ret;
		}
		if (r->mem_swap != -1) {
			/* v1 "swap" is memory+swap; v2 counts swap alone. */
			if (r->mem_swap > 0 && r->mem_limit > 0)
				snprintf(buf, sizeof(buf), "%lld", (long long)(r->mem_swap - r->mem_limit));
			else
				strcpy(buf, "max");
			if ((ret = cg_write(dir, "memory.swap.max", buf, err)) < 0)
				return ret;
		}
		if (r->mem_reservation > 0 &&
		    (ret = cg_writef(dir, "memory.low", err, "%lld", (long long)r->mem_reservation)) < 0)
			return ret;
	} else if (!hybrid && (r->mem_limit > 0 || r->mem_swap > 0)) {
		return cap_errf(err, 0, "cgroup: the memory controller is not available in %s", dir);
	}
	if (!hybrid && v2_has(dir, "cpu")) {
		if (r->cpu_shares &&
		    (ret = cg_writef(dir, "cpu.weight", err, "%llu", shares_to_weight(r->cpu_shares))) < 0)
			return ret;
		if (r->cpu_quota != INT64_MIN || r->cpu_period) {
			unsigned long long period = r->cpu_period ? r->cpu_period : 100000;
			if (r->cpu_quota > 0)
				ret = cg_writef(dir, "cpu.max", err, "%lld %llu", (long long)r->cpu_quota, period);
			else
				ret = cg_writef(dir, "cpu.max", err, "max %llu", period);
			if (ret < 0)
				return ret;
		}
	}
	if (!hybrid && v2_has(dir, "cpuset")) {
		if (r->cpus && *r->cpus && (ret = cg_write(dir, "cpuset.cpus", r->cpus, err)) < 0)
			return ret;
		if (r->mems && *r->mems && (ret = cg_write(dir, "cpuset.mems", r->mems, err)) < 0)
			return ret;
	}
	if (!hybrid && r->has_pids && v2_has(dir, "pids")) {
		if (r->pids_limit > 0)
			ret = cg_writef(dir, "pids.max", err, "%lld", (long long)r->pids_limit);
		else
			ret = cg_write(dir, "pids.max", "max", err);
		if (ret < 0)
			return ret;
	}
	if (!hybrid && v2_has(dir, "io")) {
		static const char *const keys[4] = { "rbps", "wbps", "riops", "wiops" };
		if (r->blkio_weight > 0) {
			/* blkio weight [10, 1000] -> io weight [1, 10000] */
			long long w = 1 + (r->blkio_weight - 10) * 9999 / 990;
			if ((ret = cg_writef(dir, "io.weight", err, "default %lld", w)) < 0)
				return ret;
		}
		for (int k = 0; k < 4; k++)
			for (size_t i = 0; i < r->n_thr[k]; i++) {
				const struct oci_throttle *t = &r->thr[k][i];
				ret = cg_writef(dir, "io.max", err, "%lld:%lld %s=%llu", (long long)t->major,
						(long long)t->minor, keys[k], (unsigned long long)t->rate);
				if (ret < 0)
					return ret;
			}
	}
	if (v2_has(dir, "hugetlb") && (ret = cg_write_hugetlb(dir, r, "max", err)) < 0)
		return ret;
	if (r->unified) {
		const char *k;
		json_t *v;
		json_object_foreach(r->unified, k, v)
			if ((ret = cg_write(dir, k, json_string_value(v), err)) < 0)
				return ret;
	}
	/* On a hybrid host the v1 devices controller already enforces the rules. */
	if (!hybrid && (ret = cg_v2_devices(dir, r, err)) < 0)
		return ret;
	return 0;
}
