/* Statistics from the cgroup files, named as runc's `events --stats` names them
 * (libcontainer's types.Stats): nanoseconds for CPU time, bytes for memory. */
#include "cgroup-stats.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgfile.h"

#define STAT_BUF 16384

/* A file's single number ("max" and missing files read 0). */
static uint64_t read_u64(const char *dir, const char *file)
{
	char buf[64];
	if (cg_read(dir, file, buf, sizeof(buf)) <= 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

/* "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events): key's value. */
static uint64_t keyed(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
	return 0;
}

static json_t *keyed_map(const char *text)
{
	json_t *m = json_object();
	char key[128];
	unsigned long long v;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (sscanf(p, "%127s %llu", key, &v) == 2)
			json_object_set_new(m, key, json_integer((json_int_t)v));
	return m;
}

static json_t *u64_array(const char *text)
{
	json_t *a = json_array();
	char *end;
	for (const char *p = text;; p = end) {
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p)
			break;
		json_array_append_new(a, json_integer((json_int_t)v));
	}
	return a;
}

static void set_u64(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

static json_t *mem_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt)
{
	json_t *e = json_object();
	set_u64(e, "limit", limit);
	set_u64(e, "usage", usage);
	set_u64(e, "max", max);
	set_u64(e, "failcnt", failcnt);
	return e;
}

/* "max" or a number, as limits read on v2 and v1 pids: unlimited is UINT64_MAX for memory
 * (as runc reports it) and 0 for pids. */
static uint64_t read_limit(const char *dir, const char *file, uint64_t unlimited)
{
	char buf[64];
	if (cg_read(dir, file, buf, sizeof(buf)) <= 0)
		return 0;
	return !strncmp(buf, "max", 3) ? unlimited : strtoull(buf, NULL, 10);
}

struct stats {
	json_t *cpu, *usage, *throttling, *cpuset, *memory, *pids, *blkio, *hugetlb;
	char *buf;
};

static void v1_cpuacct(struct stats *s, const char *dir)
{
	long hz = sysconf(_SC_CLK_TCK);
	set_u64(s->usage, "total", read_u64(dir, "cpuacct.usage"));
	if (cg_read(dir, "cpuacct.usage_percpu", s->buf, STAT_BUF) > 0)
		json_object_set_new(s->usage, "percpu", u64_array(s->buf));
	if (cg_read(dir, "cpuacct.usage_percpu_sys", s->buf, STAT_BUF) > 0)
		json_object_set_new(s->usage, "percpu_kernel", u64_array(s->buf));
	if (cg_read(dir, "cpuacct.usage_percpu_user", s->buf, STAT_BUF) > 0)
		json_object_set_new(s->usage, "percpu_user", u64_array(s->buf));
	/* cpuacct.stat counts USER_HZ ticks; runc converts them to nanoseconds. */
	if (cg_read(dir, "cpuacct.stat", s->buf, STAT_BUF) > 0 && hz > 0) {
		set_u64(s->usage, "kernel", keyed(s->buf, "system") * (1000000000ULL / (uint64_t)hz));
		set_u64(s->usage, "user", keyed(s->buf, "user") * (1000000000ULL / (uint64_t)hz));
	}
}

static void throttling(struct stats *s, const char *text, uint64_t time_mult, const char *time_key)
{
	set_u64(s->throttling, "periods", keyed(text, "nr_periods"));
	set_u64(s->throttling, "throttledPeriods", keyed(text, "nr_throttled"));
	set_u64(s->throttling, "throttledTime", keyed(text, time_key) * time_mult);
}

/* A cpu or node list ("0-3,8") as the array of its numbers. */
static json_t *id_list(const char *text)
{
	json_t *a = json_array();
	const char *p = text;
	while (*p >= '0' && *p <= '9') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		for (unsigned long i = lo; i <= hi && i < lo + 4096; i++)
			json_array_append_new(a, json_integer((json_int_t)i));
		p = *end == ',' ? end + 1 : end;
	}
	return a;
}

static void cpuset(struct stats *s, const char *dir, bool v2)
{
	static const char *const flags[] = { "cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate",
					     "memory_spread_page", "memory_spread_slab", "memory_pressure",
					     "sched_load_balance", "sched_relax_domain_level" };
	if (cg_read(dir, v2 ? "cpuset.cpus.effective" : "cpuset.cpus", s->buf, STAT_BUF) >= 0)
		json_object_set_new(s->cpuset, "cpus", id_list(s->buf));
	if (cg_read(dir, v2 ? "cpuset.mems.effective" : "cpuset.mems", s->buf, STAT_BUF) >= 0)
		json_object_set_new(s->cpuset, "mems", id_list(s->buf));
	if (v2)
		return;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char f[64];
		snprintf(f, sizeof(f), "cpuset.%s", flags[i]);
		if (cg_read(dir, f, s->buf, STAT_BUF) > 0)
			json_object_set_new(s->cpuset, flags[i], json_integer(strtoll(s->buf, NULL, 10)));
	}
}

static void v1_memory(struct stats *s, const char *dir)
{
	static const struct { const char *key, *prefix; } entries[] = {
		{ "usage", "memory." }, { "swap", "memory.memsw." }, { "kernel", "memory.kmem." },
		{ "kernelTCP", "memory.kmem.tcp." },
	};
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		char f[4][64];
		static const char *const suffix[4] = { "limit_in_bytes", "usage_in_bytes", "max_usage_in_bytes",
						       "failcnt" };
		for (int k = 0; k < 4; k++)
			snprintf(f[k], sizeof(f[k]), "%s%s", entries[i].prefix, suffix[k]);
		json_object_set_new(s->memory, entries[i].key,
				    mem_entry(read_u64(dir, f[0]), read_u64(dir, f[1]), read_u64(dir, f[2]),
					      read_u64(dir, f[3])));
	}
	if (cg_read(dir, "memory.stat", s->buf, STAT_BUF) > 0) {
		set_u64(s->memory, "cache", keyed(s->buf, "cache"));
		json_object_set_new(s->memory, "raw", keyed_map(s->buf));
	}
}

static void pids(struct stats *s, const char *dir)
{
	set_u64(s->pids, "current", read_u64(dir, "pids.current"));
	set_u64(s->pids, "limit", read_limit(dir, "pids.max", 0));
}

/* v1 blkio "MAJ:MIN Op value" lines (the last, "Total N", has no device). */
static json_t *blkio_entries(const char *text)
{
	json_t *a = json_array();
	unsigned maj, min;
	char op[32];
	unsigned long long v;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (sscanf(p, "%u:%u %31s %llu", &maj, &min, op, &v) == 4)
			json_array_append_new(a, json_pack("{s:i,s:i,s:s,s:I}", "major", maj, "minor", min,
							   "op", op, "value", (json_int_t)v));
	return a;
}

static void v1_blkio(struct stats *s, const char *dir)
{
	/* CFQ/BFQ accounting when present, else the throttle layer's (what runc falls back to). */
	static const struct { const char *key, *files[3]; } sets[] = {
		{ "ioServiceBytesRecursive", { "blkio.io_service_bytes_recursive",
					       "blkio.bfq.io_service_bytes_recursive",
					       "blkio.throttle.io_service_bytes_recursive" } },
		{ "ioServicedRecursive", { "blkio.io_serviced_recursive", "blkio.bfq.io_serviced_recursive",
					   "blkio.throttle.io_serviced_recursive" } },
	};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		for (int k = 0; k < 3; k++)
			if (cg_read(dir, sets[i].files[k], s->buf, STAT_BUF) >= 0) {
				json_object_set_new(s->blkio, sets[i].key, blkio_entries(s->buf));
				break;
			}
}

/* "2MB" for hugepages-2048kB, as runc names the sizes. */
static void huge_name(unsigned long kb, char *out, size_t sz)
{
	static const char *const units[] = { "KB", "MB", "GB", "TB" };
	int u = 0;
	while (kb >= 1024 && kb % 1024 == 0 && u < 3) {
		kb /= 1024;
		u++;
	}
	snprintf(out, sz, "%lu%s", kb, units[u]);
}

static void hugetlb(struct stats *s, const char *dir, bool v2)
{
	DIR *d = opendir("/sys/kernel/mm/hugepages");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		unsigned long kb;
		char name[32], f[3][96];
		if (sscanf(de->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		huge_name(kb, name, sizeof(name));
		json_t *e = json_object();
		if (v2) {
			snprintf(f[0], sizeof(f[0]), "hugetlb.%s.current", name);
			snprintf(f[1], sizeof(f[1]), "hugetlb.%s.events", name);
			set_u64(e, "usage", read_u64(dir, f[0]));
			set_u64(e, "max", 0);
			set_u64(e, "failcnt", cg_read(dir, f[1], s->buf, STAT_BUF) > 0 ? keyed(s->buf, "max") : 0);
		} else {
			snprintf(f[0], sizeof(f[0]), "hugetlb.%s.usage_in_bytes", name);
			snprintf(f[1], sizeof(f[1]), "hugetlb.%s.max_usage_in_bytes", name);
			snprintf(f[2], sizeof(f[2]), "hugetlb.%s.failcnt", name);
			set_u64(e, "usage", read_u64(dir, f[0]));
			set_u64(e, "max", read_u64(dir, f[1]));
			set_u64(e, "failcnt", read_u64(dir, f[2]));
		}
		json_object_set_new(s->hugetlb, name, e);
	}
	if (d)
		closedir(d);
}

static void v2_all(struct stats *s, const char *dir, bool hybrid)
{
	char buf[512];
	if (cg_read(dir, "cgroup.controllers", buf, sizeof(buf)) <= 0)
		buf[0] = 0;
	if (cg_list_has(buf, "hugetlb"))
		hugetlb(s, dir, true);
	if (hybrid)
		return;   /* the rest is on v1 */
	/* cpu.stat is there without the cpu controller (usage), throttling with it. */
	if (cg_read(dir, "cpu.stat", s->buf, STAT_BUF) > 0) {
		set_u64(s->usage, "total", keyed(s->buf, "usage_usec") * 1000);
		set_u64(s->usage, "user", keyed(s->buf, "user_usec") * 1000);
		set_u64(s->usage, "kernel", keyed(s->buf, "system_usec") * 1000);
		throttling(s, s->buf, 1000, "throttled_usec");
	}
	if (cg_list_has(buf, "memory")) {
		uint64_t fail = cg_read(dir, "memory.events", s->buf, STAT_BUF) > 0 ? keyed(s->buf, "max") : 0;
		json_object_set_new(s->memory, "usage",
				    mem_entry(read_limit(dir, "memory.max", UINT64_MAX), read_u64(dir, "memory.current"),
					      read_u64(dir, "memory.peak"), fail));
		json_object_set_new(s->memory, "swap",
				    mem_entry(read_limit(dir, "memory.swap.max", UINT64_MAX),
					      read_u64(dir, "memory.swap.current"), 0, 0));
		if (cg_read(dir, "memory.stat", s->buf, STAT_BUF) > 0) {
			set_u64(s->memory, "cache", keyed(s->buf, "file"));
			json_object_set_new(s->memory, "raw", keyed_map(s->buf));
		}
	}
	if (cg_list_has(buf, "pids"))
		pids(s, dir);
	if (cg_list_has(buf, "cpuset"))
		cpuset(s, dir, true);
	if (cg_list_has(buf, "io") && cg_read(dir, "io.stat", s->buf, STAT_BUF) >= 0) {
		/* "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ..." */
		json_t *bytes = json_array(), *ios = json_array();
		for (const char *p = s->buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
			unsigned maj, min;
			unsigned long long rb, wb, ri, wi;
			if (sscanf(p, "%u:%u rbytes=%llu wbytes=%llu rios=%llu wios=%llu", &maj, &min, &rb, &wb, &ri,
				   &wi) != 6)
				continue;
			json_array_append_new(bytes, json_pack("{s:i,s:i,s:s,s:I}", "major", maj, "minor", min, "op",
							       "Read", "value", (json_int_t)rb));
			json_array_append_new(bytes, json_pack("{s:i,s:i,s:s,s:I}", "major", maj, "minor", min, "op",
							       "Write", "value", (json_int_t)wb));
			json_array_append_new(ios, json_pack("{s:i,s:i,s:s,s:I}", "major", maj, "minor", min, "op",
							     "Read", "value", (json_int_t)ri));
			json_array_append_new(ios, json_pack("{s:i,s:i,s:s,s:I}", "major", maj, "minor", min, "op",
							     "Write", "value", (json_int_t)wi));
		}
		json_object_set_new(s->blkio, "ioServiceBytesRecursive", bytes);
		json_object_set_new(s->blkio, "ioServicedRecursive", ios);
	}
}

json_t *cg_stats(const struct cg_layout *l, const char *path)
{
	struct stats s = { 0 };
	char dir[2 * PATH_MAX];
	s.buf = malloc(STAT_BUF);
	if (!s.buf)
		return NULL;
	s.usage = json_pack("{s:i,s:i,s:i}", "total", 0, "kernel", 0, "user", 0);
	s.throttling = json_object();
	s.cpu = json_pack("{s:o,s:o}", "usage", s.usage, "throttling", s.throttling);
	s.cpuset = json_object();
	s.memory = json_object();
	s.pids = json_pack("{s:i,s:i}", "current", 0, "limit", 0);
	s.blkio = json_object();
	s.hugetlb = json_object();
	json_object_set_new(s.memory, "usage", mem_entry(0, 0, 0, 0));
	for (int i = 0; i < l->n; i++) {
		const struct cg_hier *h = &l->h[i];
		cg_dir(h, path, dir, sizeof(dir));
		if (h->v2) {
			v2_all(&s, dir, l->mode == CG_HYBRID);
			continue;
		}
		if (cg_has_ctrl(h, "cpuacct"))
			v1_cpuacct(&s, dir);
		if (cg_has_ctrl(h, "cpu") && cg_read(dir, "cpu.stat", s.buf, STAT_BUF) > 0)
			throttling(&s, s.buf, 1, "throttled_time");
		if (cg_has_ctrl(h, "cpuset"))
			cpuset(&s, dir, false);
		if (cg_has_ctrl(h, "memory"))
			v1_memory(&s, dir);
		if (cg_has_ctrl(h, "pids"))
			pids(&s, dir);
		if (cg_has_ctrl(h, "blkio"))
			v1_blkio(&s, dir);
		if (cg_has_ctrl(h, "hugetlb"))
			hugetlb(&s, dir, false);
	}
	free(s.buf);
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:{},s:n}", "cpu", s.cpu, "cpuset", s.cpuset, "memory", s.memory,
			 "pids", s.pids, "blkio", s.blkio, "hugetlb", s.hugetlb, "intel_rdt",
			 "network_interfaces");
}

int cg_oom_file(const struct cg_layout *l, const char *path, char *dir, size_t dirsz, bool *v2)
{
	for (int i = 0; i < l->n; i++) {
		const struct cg_hier *h = &l->h[i];
		if (l->mode == CG_V2 || (!h->v2 && cg_has_ctrl(h, "memory"))) {
			cg_dir(h, path, dir, dirsz);
			*v2 = l->mode == CG_V2;
			return 0;
		}
	}
	return -ENOENT;
}

uint64_t cg_oom_kills(const struct cg_layout *l, const char *path)
{
	char dir[2 * PATH_MAX], buf[1024];
	bool v2;
	if (cg_oom_file(l, path, dir, sizeof(dir), &v2) < 0 ||
	    cg_read(dir, v2 ? "memory.events" : "memory.oom_control", buf, sizeof(buf)) <= 0)
		return 0;
	return keyed(buf, "oom_kill");
}
