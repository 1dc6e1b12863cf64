/* Resources on a cgroup v1 hierarchy (one hierarchy per call; it writes only the files of
 * the controllers that hierarchy carries). */
#include "cgroup-v1.h"

#include "cgfile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const thr_files[4] = {
	"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
};

static int v1_memory(const char *dir, const struct oci_resources *r, cap_err *err)
{
	int ret;
	if (r->mem_limit != -1 || r->mem_swap != -1) {
		/* memsw must stay >= limit at every step: when raising the limit above the
		 * current memsw, write memsw first. */
		cap_err tmp = { 0 };
		if (r->mem_limit != -1 &&
		    cg_writef(dir, "memory.limit_in_bytes", &tmp, "%lld", (long long)r->mem_limit) < 0) {
			if (r->mem_swap == -1) {
				/* tmp.msg already ends with the strerror text */
				if (!err->set)
					*err = tmp;
				return tmp.errnum ? -tmp.errnum : -EINVAL;
			}
			ret = cg_writef(dir, "memory.memsw.limit_in_bytes", err, "%lld",
					(long long)r->mem_swap);
			if (ret < 0)
				return ret;
			ret = cg_writef(dir, "memory.limit_in_bytes", err, "%lld", (long long)r->mem_limit);
			if (ret < 0)
				return ret;
		} else if (r->mem_swap != -1) {
			ret = cg_writef(dir, "memory.memsw.limit_in_bytes", err, "%lld",
					(long long)r->mem_swap);
			if (ret < 0)
				return ret;
		}
	}
	if (r->mem_reservation != -1 &&
	    (ret = cg_writef(dir, "memory.soft_limit_in_bytes", err, "%lld",
			     (long long)r->mem_reservation)) < 0)
		return ret;
	if (r->mem_swappiness != -1 &&
	    (ret = cg_writef(dir, "memory.swappiness", err, "%lld", (long long)r->mem_swappiness)) < 0)
		return ret;
	if (r->mem_kernel != -1) {
		/* Linux 6.x still has the file and takes the write, but no longer applies it:
		 * what reads back tells (the kernel rounds a limit down to a page). */
		char buf[32] = "";
		if ((ret = cg_writef(dir, "memory.kmem.limit_in_bytes", err, "%lld", (long long)r->mem_kernel)) < 0)
			return ret;
		if (cg_read(dir, "memory.kmem.limit_in_bytes", buf, sizeof(buf)) > 0)
			buf[strcspn(buf, "\n")] = 0;
		if (!*buf ||
		    strtoll(buf, NULL, 10) > r->mem_kernel)
			return cap_errf(err, 0, "linux.resources.memory.kernel: this kernel ignores kernel memory limits (memory.kmem.limit_in_bytes reads %.20s after writing %lld)",
					buf, (long long)r->mem_kernel);
	}
	if (r->mem_kernel_tcp != -1 &&
	    (ret = cg_writef(dir, "memory.kmem.tcp.limit_in_bytes", err, "%lld",
			     (long long)r->mem_kernel_tcp)) < 0)
		return ret;
	if (r->has_disable_oom &&
	    (ret = cg_write(dir, "memory.oom_control", r->mem_disable_oom ? "1" : "0", err)) < 0)
		return ret;
	return 0;
}

static int v1_cpu(const char *dir, const struct oci_resources *r, cap_err *err)
{
	int ret;
	if (r->cpu_shares && (ret = cg_writef(dir, "cpu.shares", err, "%llu",
					      (unsigned long long)r->cpu_shares)) < 0)
		return ret;
	if (r->cpu_period && (ret = cg_writef(dir, "cpu.cfs_period_us", err, "%llu",
					      (unsigned long long)r->cpu_period)) < 0)
		return ret;
	if (r->cpu_quota != INT64_MIN &&
	    (ret = cg_writef(dir, "cpu.cfs_quota_us", err, "%lld",
			     (long long)(r->cpu_quota > 0 ? r->cpu_quota : -1))) < 0)
		return ret;
	if (r->cpu_rt_period && (ret = cg_writef(dir, "cpu.rt_period_us", err, "%llu",
						 (unsigned long long)r->cpu_rt_period)) < 0)
		return ret;
	if (r->cpu_rt_runtime != INT64_MIN &&
	    (ret = cg_writef(dir, "cpu.rt_runtime_us", err, "%lld", (long long)r->cpu_rt_runtime)) < 0)
		return ret;
	return 0;
}

static int v1_devices(const char *dir, const struct oci_resources *r, cap_err *err)
{
	char rule[64], mj[24], mn[24];
	for (size_t i = 0; i < r->n_devrules; i++) {
		const struct oci_dev_rule *d = &r->devrules[i];
		if (d->major < 0)
			strcpy(mj, "*");
		else
			snprintf(mj, sizeof(mj), "%lld", (long long)d->major);
		if (d->minor < 0)
			strcpy(mn, "*");
		else
			snprintf(mn, sizeof(mn), "%lld", (long long)d->minor);
		if (d->type == 'a')
			snprintf(rule, sizeof(rule), "a");
		else
			snprintf(rule, sizeof(rule), "%c %s:%s %s", d->type, mj, mn, d->access);
		int ret = cg_write(dir, d->allow ? "devices.allow" : "devices.deny", rule, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int v1_blkio(const char *dir, const struct oci_resources *r, cap_err *err)
{
	int ret;
	char buf[8];
	/* With BFQ the proportional weight lives in blkio.bfq.weight. */
	bool bfq = cg_read(dir, "blkio.bfq.weight", buf, sizeof(buf)) > 0;
	const char *wfile = bfq ? "blkio.bfq.weight" : "blkio.weight";
	if (r->blkio_weight != -1 &&
	    (ret = cg_writef(dir, wfile, err, "%lld", (long long)r->blkio_weight)) < 0)
		return ret;
	if (r->blkio_leaf_weight != -1 &&
	    (ret = cg_writef(dir, "blkio.leaf_weight", err, "%lld", (long long)r->blkio_leaf_weight)) < 0)
		return ret;
	for (size_t i = 0; i < r->n_weight_dev; i++) {
		const struct oci_weight_dev *w = &r->weight_dev[i];
		if (w->weight != -1 &&
		    (ret = cg_writef(dir, bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", err,
				     "%lld:%lld %lld", (long long)w->major, (long long)w->minor,
				     (long long)w->weight)) < 0)
			return ret;
		if (w->leaf != -1 &&
		    (ret = cg_writef(dir, "blkio.leaf_weight_device", err, "%lld:%lld %lld",
				     (long long)w->major, (long long)w->minor, (long long)w->leaf)) < 0)
			return ret;
	}
	for (int k = 0; k < 4; k++)
		for (size_t i = 0; i < r->n_thr[k]; i++) {
			const struct oci_throttle *t = &r->thr[k][i];
			ret = cg_writef(dir, thr_files[k], err, "%lld:%lld %llu", (long long)t->major,
					(long long)t->minor, (unsigned long long)t->rate);
			if (ret < 0)
				return ret;
		}
	return 0;
}

int cg_v1_apply(const char *ctrls, const char *dir, const struct oci_resources *r, cap_err *err)
{
	int ret = 0;
	if (cg_list_has(ctrls, "memory") && (ret = v1_memory(dir, r, err)) < 0)
		return ret;
	if (cg_list_has(ctrls, "cpu") && (ret = v1_cpu(dir, r, err)) < 0)
		return ret;
	if (cg_list_has(ctrls, "cpuset")) {
		if (r->cpus && *r->cpus && (ret = cg_write(dir, "cpuset.cpus", r->cpus, err)) < 0)
			return ret;
		if (r->mems && *r->mems && (ret = cg_write(dir, "cpuset.mems", r->mems, err)) < 0)
			return ret;
	}
	if (cg_list_has(ctrls, "pids") && r->has_pids) {
		if (r->pids_limit > 0)
			ret = cg_writef(dir, "pids.max", err, "%lld", (long long)r->pids_limit);
		else
			ret = cg_write(dir, "pids.max", "max", err);
		if (ret < 0)
			return ret;
	}
	if (cg_list_has(ctrls, "devices") && (ret = v1_devices(dir, r, err)) < 0)
		return ret;
	if (cg_list_has(ctrls, "blkio") && (ret = v1_blkio(dir, r, err)) < 0)
		return ret;
	if (cg_list_has(ctrls, "net_cls") && r->has_classid &&
	    (ret = cg_writef(dir, "net_cls.classid", err, "%u", r->classid)) < 0)
		return ret;
	if (cg_list_has(ctrls, "net_prio"))
		for (size_t i = 0; i < r->n_prio; i++)
			if ((ret = cg_writef(dir, "net_prio.ifpriomap", err, "%s %u", r->prio[i].name,
					     r->prio[i].prio)) < 0)
				return ret;
	if (cg_list_has(ctrls, "hugetlb") && (ret = cg_write_hugetlb(dir, r, "limit_in_bytes", err)) < 0)
		return ret;
	return 0;
}
