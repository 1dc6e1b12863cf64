/* config.json -> struct oci_spec. The first invalid field stops parsing with
 * "config.json: <json path>: <reason>". */
#include "spec.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "../lib/json.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define TRY(x)                     \
	do {                       \
		int r_ = (x);      \
		if (r_ < 0)        \
			return r_; \
	} while (0)

static int bad(cap_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(cap_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = cap_verrf(err, 0, fmt, ap);
	va_end(ap);
	return r;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p)
		abort();
	return p;
}

static int parse_caps(json_t *c, const char *where, struct oci_process *p, cap_err *err)
{
	static const char *const keys[CAPSET_COUNT] = { "bounding", "effective", "permitted",
							 "inheritable", "ambient" };
	for (int s = 0; s < CAPSET_COUNT; s++) {
		json_t *a = NULL, *v;
		size_t i;
		TRY(cap_json_arr(c, keys[s], where, &a, err));
		if (!a)
			continue;
		json_array_foreach(a, i, v) {
			int n = json_is_string(v) ? oci_cap_number(json_string_value(v)) : -2;
			if (n == -2)
				return bad(err, "%s.%s[%zu]: must be a string", where, keys[s], i);
			/* A capability the runtime cannot name cannot be granted: the
			 * runtime-spec says fail (runc 1.1 only warns and drops it). */
			if (n < 0)
				return bad(err, "%s.%s[%zu]: unknown capability '%s'", where,
					   keys[s], i, json_string_value(v));
			p->caps[s] |= 1ULL << n;
		}
	}
	p->has_caps = true;
	return 0;
}

int oci_process_parse(json_t *pj, const char *where, struct oci_process *p, cap_err *err)
{
	char w[256];
	json_t *o = NULL, *a = NULL, *v;
	int64_t i64;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->umask = -1;
	TRY(cap_json_bool(pj, "terminal", where, &p->terminal, err));
	snprintf(w, sizeof(w), "%s.consoleSize", where);
	if (cap_json_obj(pj, "consoleSize", where, &o, err) > 0) {
		uint64_t h = 0, wd = 0;
		TRY(cap_json_uint(o, "height", w, &h, err));
		TRY(cap_json_uint(o, "width", w, &wd, err));
		p->console_h = (unsigned)h;
		p->console_w = (unsigned)wd;
	}
	o = NULL;
	TRY(cap_json_obj(pj, "user", where, &o, err));
	if (o) {
		uint64_t u = 0, g = 0, um = 0;
		snprintf(w, sizeof(w), "%s.user", where);
		TRY(cap_json_uint(o, "uid", w, &u, err));
		TRY(cap_json_uint(o, "gid", w, &g, err));
		if (u > UINT32_MAX - 1 || g > UINT32_MAX - 1)
			return bad(err, "%s: uid/gid out of range", w);
		p->uid = (uid_t)u;
		p->gid = (gid_t)g;
		if (cap_json_uint(o, "umask", w, &um, err) > 0)
			p->umask = (int)(um & 0777);
		TRY(cap_json_arr(o, "additionalGids", w, &a, err));
		if (a) {
			p->groups = xcalloc(json_array_size(a), sizeof(gid_t));
			json_array_foreach(a, i, v) {
				if (!json_is_integer(v) || json_integer_value(v) < 0)
					return bad(err, "%s.additionalGids[%zu]: must be a gid", w, i);
				p->groups[i] = (gid_t)json_integer_value(v);
			}
			p->n_groups = json_array_size(a);
		}
		const char *uname = NULL;
		TRY(cap_json_str(o, "username", w, &uname, err));
	}
	TRY(cap_json_strv(pj, "args", where, &p->args, &p->n_args, err));
	if (!p->args || !p->n_args)
		return bad(err, "%s.args: must name the program to run", where);
	TRY(cap_json_strv(pj, "env", where, &p->env, &p->n_env, err));
	if (!p->env)
		p->env = xcalloc(1, sizeof(char *));
	p->cwd = "/";
	TRY(cap_json_str(pj, "cwd", where, &p->cwd, err));
	if (p->cwd[0] != '/')
		return bad(err, "%s.cwd: must be an absolute path", where);
	o = NULL;
	TRY(cap_json_obj(pj, "capabilities", where, &o, err));
	if (o) {
		snprintf(w, sizeof(w), "%s.capabilities", where);
		TRY(parse_caps(o, w, p, err));
	}
	a = NULL;
	TRY(cap_json_arr(pj, "rlimits", where, &a, err));
	if (a) {
		p->rlimits = xcalloc(json_array_size(a), sizeof(*p->rlimits));
		json_array_foreach(a, i, v) {
			const char *type = NULL;
			snprintf(w, sizeof(w), "%s.rlimits[%zu]", where, i);
			if (!json_is_object(v))
				return bad(err, "%s: must be an object", w);
			TRY(cap_json_str(v, "type", w, &type, err));
			int res = type ? oci_rlimit_number(type) : -1;
			if (res < 0)
				return bad(err, "%s.type: unknown rlimit '%s'", w, type ? type : "");
			struct oci_rlimit *rl = &p->rlimits[p->n_rlimits++];
			rl->resource = res;
			TRY(cap_json_uint(v, "soft", w, &rl->soft, err));
			TRY(cap_json_uint(v, "hard", w, &rl->hard, err));
			if (rl->soft > rl->hard)
				return bad(err, "%s: soft limit above hard limit", w);
		}
	}
	TRY(cap_json_bool(pj, "noNewPrivileges", where, &p->no_new_privs, err));
	if (cap_json_int(pj, "oomScoreAdj", where, &i64, err) > 0) {
		if (i64 < -1000 || i64 > 1000)
			return bad(err, "%s.oomScoreAdj: must be between -1000 and 1000", where);
		p->has_oom_score_adj = true;
		p->oom_score_adj = (int)i64;
	}
	if (err->set)
		return -EINVAL;
	TRY(cap_json_str(pj, "apparmorProfile", where, &p->apparmor, err));
	TRY(cap_json_str(pj, "selinuxLabel", where, &p->selinux, err));
	return 0;
}

void oci_process_free(struct oci_process *p)
{
	free(p->groups);
	free(p->args);
	free(p->env);
	free(p->rlimits);
	memset(p, 0, sizeof(*p));
}

static int parse_mounts(json_t *a, struct oci_spec *s, cap_err *err)
{
	json_t *m;
	size_t i;
	char w[128];

	s->mounts = xcalloc(json_array_size(a), sizeof(*s->mounts));
	json_array_foreach(a, i, m) {
		struct oci_mount *mt = &s->mounts[s->n_mounts++];
		const char **opts = NULL;
		size_t nopts = 0, len = 0;

		snprintf(w, sizeof(w), "mounts[%zu]", i);
		if (!json_is_object(m))
			return bad(err, "%s: must be an object", w);
		TRY(cap_json_str(m, "destination", w, &mt->dest, err));
		if (!mt->dest || mt->dest[0] != '/')
			return bad(err, "%s.destination: must be an absolute path", w);
		TRY(cap_json_str(m, "type", w, &mt->type, err));
		TRY(cap_json_str(m, "source", w, &mt->source, err));
		TRY(cap_json_strv(m, "options", w, &opts, &nopts, err));
		for (size_t k = 0; k < nopts; k++)
			len += strlen(opts[k]) + 1;
		mt->data = xcalloc(len + 1, 1);
		for (size_t k = 0; k < nopts; k++) {
			if (oci_mount_option(opts[k], &mt->flags, &mt->clear, &mt->propagation,
					     &mt->bind))
				continue;
			if (*mt->data)
				strcat(mt->data, ",");
			strcat(mt->data, opts[k]);
		}
		free(opts);
		if (mt->type && !strcmp(mt->type, "bind"))
			mt->bind = true;
		if (mt->bind) {
			if (!mt->source)
				return bad(err, "%s.source: a bind mount needs a source", w);
		} else if (!mt->type) {
			return bad(err, "%s.type: missing (not a bind mount)", w);
		}
	}
	return 0;
}

static int parse_idmaps(json_t *l, const char *key, struct oci_idmap **out, size_t *n, cap_err *err)
{
	json_t *a = NULL, *v;
	size_t i;
	char w[128];

	TRY(cap_json_arr(l, key, "linux", &a, err));
	if (!a)
		return 0;
	if (json_array_size(a) > 340)
		return bad(err, "linux.%s: too many entries", key);
	*out = xcalloc(json_array_size(a), sizeof(**out));
	json_array_foreach(a, i, v) {
		uint64_t c = UINT64_MAX, h = UINT64_MAX, sz = UINT64_MAX;
		snprintf(w, sizeof(w), "linux.%s[%zu]", key, i);
		TRY(cap_json_uint(v, "containerID", w, &c, err));
		TRY(cap_json_uint(v, "hostID", w, &h, err));
		TRY(cap_json_uint(v, "size", w, &sz, err));
		if (c > UINT32_MAX || h > UINT32_MAX || sz > UINT32_MAX || !sz)
			return bad(err, "%s: needs containerID, hostID and a non-zero size", w);
		(*out)[i] = (struct oci_idmap){ (uint32_t)c, (uint32_t)h, (uint32_t)sz };
	}
	*n = json_array_size(a);
	return 0;
}

static int parse_devices(json_t *a, struct oci_spec *s, cap_err *err)
{
	json_t *d;
	size_t i;
	char w[128];

	s->devices = xcalloc(json_array_size(a), sizeof(*s->devices));
	json_array_foreach(a, i, d) {
		struct oci_device *dv = &s->devices[s->n_devices++];
		const char *type = NULL;
		uint64_t u;
		snprintf(w, sizeof(w), "linux.devices[%zu]", i);
		TRY(cap_json_str(d, "path", w, &dv->path, err));
		if (!dv->path || dv->path[0] != '/')
			return bad(err, "%s.path: must be an absolute path", w);
		TRY(cap_json_str(d, "type", w, &type, err));
		if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
			return bad(err, "%s.type: must be one of c, b, u, p", w);
		dv->type = type[0];
		TRY(cap_json_int(d, "major", w, &dv->major, err));
		TRY(cap_json_int(d, "minor", w, &dv->minor, err));
		if (cap_json_uint(d, "fileMode", w, &u, err) > 0) {
			dv->has_mode = true;
			dv->mode = (uint32_t)u & 07777;
		}
		if (cap_json_uint(d, "uid", w, &u, err) > 0) {
			dv->has_uid = true;
			dv->uid = (uint32_t)u;
		}
		if (cap_json_uint(d, "gid", w, &u, err) > 0) {
			dv->has_gid = true;
			dv->gid = (uint32_t)u;
		}
		if (err->set)
			return -EINVAL;
	}
	return 0;
}

void oci_resources_init(struct oci_resources *r)
{
	memset(r, 0, sizeof(*r));
	r->mem_limit = r->mem_reservation = r->mem_swap = r->mem_kernel = r->mem_kernel_tcp = -1;
	r->mem_swappiness = -1;
	r->cpu_quota = INT64_MIN;
	r->cpu_rt_runtime = INT64_MIN;
	r->blkio_weight = r->blkio_leaf_weight = -1;
}

static int parse_devrules(json_t *a, const char *where, struct oci_resources *r, cap_err *err)
{
	json_t *d;
	size_t i;
	char w[320];

	r->devrules = xcalloc(json_array_size(a), sizeof(*r->devrules));
	json_array_foreach(a, i, d) {
		struct oci_dev_rule *dr = &r->devrules[r->n_devrules++];
		const char *type = "a", *access = "rwm";
		snprintf(w, sizeof(w), "%s.devices[%zu]", where, i);
		if (!json_is_object(d))
			return bad(err, "%s: must be an object", w);
		if (!json_is_boolean(json_object_get(d, "allow")))
			return bad(err, "%s.allow: must be true or false", w);
		dr->allow = json_is_true(json_object_get(d, "allow"));
		TRY(cap_json_str(d, "type", w, &type, err));
		if (strlen(type) != 1 || !strchr("acb", type[0]))
			return bad(err, "%s.type: must be one of a, c, b", w);
		dr->type = type[0];
		dr->major = dr->minor = -1;
		TRY(cap_json_int(d, "major", w, &dr->major, err));
		TRY(cap_json_int(d, "minor", w, &dr->minor, err));
		TRY(cap_json_str(d, "access", w, &access, err));
		if (strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
			return bad(err, "%s.access: must be letters of rwm", w);
		strcpy(dr->access, access);
	}
	return 0;
}

static int parse_blkio(json_t *b, const char *where, struct oci_resources *r, cap_err *err)
{
	static const char *const thr_keys[4] = { "throttleReadBpsDevice", "throttleWriteBpsDevice",
						 "throttleReadIOPSDevice", "throttleWriteIOPSDevice" };
	char w[512];
	json_t *a = NULL, *v;
	size_t i;
	uint64_t u;

	if (cap_json_uint(b, "weight", where, &u, err) > 0)
		r->blkio_weight = (int64_t)u;
	if (cap_json_uint(b, "leafWeight", where, &u, err) > 0)
		r->blkio_leaf_weight = (int64_t)u;
	if (err->set)
		return -EINVAL;
	TRY(cap_json_arr(b, "weightDevice", where, &a, err));
	if (a) {
		r->weight_dev = xcalloc(json_array_size(a), sizeof(*r->weight_dev));
		json_array_foreach(a, i, v) {
			struct oci_weight_dev *wd = &r->weight_dev[r->n_weight_dev++];
			snprintf(w, sizeof(w), "%s.weightDevice[%zu]", where, i);
			wd->weight = wd->leaf = -1;
			if (cap_json_int(v, "major", w, &wd->major, err) <= 0 ||
			    cap_json_int(v, "minor", w, &wd->minor, err) <= 0)
				return bad(err, "%s: needs major and minor", w);
			TRY(cap_json_int(v, "weight", w, &wd->weight, err));
			TRY(cap_json_int(v, "leafWeight", w, &wd->leaf, err));
		}
	}
	for (int k = 0; k < 4; k++) {
		a = NULL;
		TRY(cap_json_arr(b, thr_keys[k], where, &a, err));
		if (!a)
			continue;
		r->thr[k] = xcalloc(json_array_size(a), sizeof(struct oci_throttle));
		json_array_foreach(a, i, v) {
			struct oci_throttle *t = &r->thr[k][r->n_thr[k]++];
			snprintf(w, sizeof(w), "%s.%s[%zu]", where, thr_keys[k], i);
			if (cap_json_int(v, "major", w, &t->major, err) <= 0 ||
			    cap_json_int(v, "minor", w, &t->minor, err) <= 0 ||
			    cap_json_uint(v, "rate", w, &t->rate, err) <= 0)
				return bad(err, "%s: needs major, minor and rate", w);
		}
	}
	return 0;
}

/* linux.resources.network: net_cls classID and net_prio per-interface priorities. */
static int parse_network(json_t *o, const char *where, struct oci_resources *r, cap_err *err)
{
	char w[256];
	json_t *a = NULL, *v;
	size_t i;
	uint64_t u;
	snprintf(w, sizeof(w), "%.200s.network", where);
	if (cap_json_uint(o, "classID", w, &u, err) > 0) {
		if (u > UINT32_MAX)
			return bad(err, "%s.classID: must fit in 32 bits", w);
		r->has_classid = true;
		r->classid = (uint32_t)u;
	}
	if (err->set)
		return -EINVAL;
	TRY(cap_json_arr(o, "priorities", w, &a, err));
	if (!a)
		return 0;
	r->prio = xcalloc(json_array_size(a) + 1, sizeof(*r->prio));
	json_array_foreach(a, i, v) {
		struct oci_netprio *np = &r->prio[r->n_prio++];
		char wi[400];
		snprintf(wi, sizeof(wi), "%s.priorities[%zu]", w, i);
		if (cap_json_str(v, "name", wi, &np->name, err) <= 0 ||
		    cap_json_uint(v, "priority", wi, &u, err) <= 0)
			return bad(err, "%s: needs name and priority", wi);
		/* an interface name: no separator the ifpriomap line format could be fooled by */
		if (!*np->name || strlen(np->name) >= 16 || strpbrk(np->name, " \t\n/"))
			return bad(err, "%s.name: not an interface name (1 to 15 characters, no space or /)", wi);
		if (u > UINT32_MAX)
			return bad(err, "%s.priority: must fit in 32 bits", wi);
		np->prio = (uint32_t)u;
	}
	return 0;
}

int oci_resources_parse(json_t *rj, const char *where, struct oci_resources *r, cap_err *err)
{
	char w[320];
	json_t *o, *a, *v;
	size_t i;
	uint64_t u;
	int64_t s64;

	oci_resources_init(r);
	a = NULL;
	TRY(cap_json_arr(rj, "devices", where, &a, err));
	if (a)
		TRY(parse_devrules(a, where, r, err));
	o = NULL;
	TRY(cap_json_obj(rj, "memory", where, &o, err));
	if (o) {
		snprintf(w, sizeof(w), "%s.memory", where);
		TRY(cap_json_int(o, "limit", w, &r->mem_limit, err));
		TRY(cap_json_int(o, "reservation", w, &r->mem_reservation, err));
		TRY(cap_json_int(o, "swap", w, &r->mem_swap, err));
		TRY(cap_json_int(o, "kernel", w, &r->mem_kernel, err));
		TRY(cap_json_int(o, "kernelTCP", w, &r->mem_kernel_tcp, err));
		if (cap_json_uint(o, "swappiness", w, &u, err) > 0) {
			if (u > 100)
				return bad(err, "%s.swappiness: must be 0..100", w);
			r->mem_swappiness = (int64_t)u;
		}
		if (cap_json_bool(o, "disableOOMKiller", w, &r->mem_disable_oom, err) > 0)
			r->has_disable_oom = true;
		if (err->set)
			return -EINVAL;
		if (r->mem_limit > 0 && r->mem_swap > 0 && r->mem_swap < r->mem_limit)
			return bad(err, "%s.swap: must not be below memory.limit (it includes it)", w);
	}
	o = NULL;
	TRY(cap_json_obj(rj, "cpu", where, &o, err));
	if (o) {
		snprintf(w, sizeof(w), "%s.cpu", where);
		TRY(cap_json_uint(o, "shares", w, &r->cpu_shares, err));
		if (cap_json_int(o, "quota", w, &s64, err) > 0)
			r->cpu_quota = s64;
		TRY(cap_json_uint(o, "period", w, &r->cpu_period, err));
		if (cap_json_int(o, "realtimeRuntime", w, &s64, err) > 0)
			r->cpu_rt_runtime = s64;
		TRY(cap_json_uint(o, "realtimePeriod", w, &r->cpu_rt_period, err));
		TRY(cap_json_str(o, "cpus", w, &r->cpus, err));
		TRY(cap_json_str(o, "mems", w, &r->mems, err));
		if (err->set)
			return -EINVAL;
		if (r->cpu_period && (r->cpu_period < 1000 || r->cpu_period > 1000000))
			return bad(err, "%s.period: must be 1000..1000000 microseconds", w);
	}
	o = NULL;
	TRY(cap_json_obj(rj, "pids", where, &o, err));
	if (o) {
		snprintf(w, sizeof(w), "%s.pids", where);
		if (cap_json_int(o, "limit", w, &r->pids_limit, err) > 0)
			r->has_pids = true;
		if (err->set)
			return -EINVAL;
	}
	o = NULL;
	TRY(cap_json_obj(rj, "blockIO", where, &o, err));
	if (o) {
		snprintf(w, sizeof(w), "%s.blockIO", where);
		TRY(parse_blkio(o, w, r, err));
	}
	a = NULL;
	TRY(cap_json_arr(rj, "hugepageLimits", where, &a, err));
	if (a) {
		r->huge = xcalloc(json_array_size(a), sizeof(*r->huge));
		json_array_foreach(a, i, v) {
			struct oci_hugepage *h = &r->huge[r->n_huge++];
			snprintf(w, sizeof(w), "%s.hugepageLimits[%zu]", where, i);
			if (cap_json_str(v, "pageSize", w, &h->size, err) <= 0 ||
			    cap_json_uint(v, "limit", w, &h->limit, err) <= 0)
				return bad(err, "%s: needs pageSize and limit", w);
			if (strspn(h->size, "0123456789KMGB") != strlen(h->size))
				return bad(err, "%s.pageSize: '%s' is not a size like 2MB", w, h->size);
		}
	}
	o = NULL;
	TRY(cap_json_obj(rj, "network", where, &o, err));
	if (o)
		TRY(parse_network(o, where, r, err));
	o = NULL;
	TRY(cap_json_obj(rj, "unified", where, &o, err));
	if (o) {
		const char *k;
		json_object_foreach(o, k, v) {
			if (!json_is_string(v))
				return bad(err, "%s.unified.%s: must be a string", where, k);
			if (strchr(k, '/') || k[0] == '.')
				return bad(err, "%s.unified.%s: not a cgroup file name", where, k);
		}
		r->unified = o;
	}
	(void)u;
	return 0;
}

void oci_resources_free(struct oci_resources *r)
{
	free(r->weight_dev);
	for (int k = 0; k < 4; k++)
		free(r->thr[k]);
	free(r->huge);
	free(r->devrules);
	free(r->prio);
	oci_resources_init(r);
}

int oci_hooks_parse(json_t *h, struct oci_spec *s, cap_err *err)
{
	static const char *const keys[HOOK_KINDS] = { "prestart", "createRuntime", "createContainer",
						       "startContainer", "poststart", "poststop" };
	char w[128];
	for (int k = 0; k < HOOK_KINDS; k++) {
		json_t *a = NULL, *v;
		size_t i;
		TRY(cap_json_arr(h, keys[k], "hooks", &a, err));
		if (!a)
			continue;
		s->hooks.h[k] = xcalloc(json_array_size(a), sizeof(struct oci_hook));
		json_array_foreach(a, i, v) {
			struct oci_hook *hk = &s->hooks.h[k][s->hooks.n[k]++];
			int64_t t = 0;
			snprintf(w, sizeof(w), "hooks.%s[%zu]", keys[k], i);
			TRY(cap_json_str(v, "path", w, &hk->path, err));
			if (!hk->path || hk->path[0] != '/')
				return bad(err, "%s.path: must be an absolute path", w);
			TRY(cap_json_strv(v, "args", w, &hk->args, NULL, err));
			TRY(cap_json_strv(v, "env", w, &hk->env, NULL, err));
			if (cap_json_int(v, "timeout", w, &t, err) > 0 && t <= 0)
				return bad(err, "%s.timeout: must be positive", w);
			if (err->set)
				return -EINVAL;
			hk->timeout = (int)t;
		}
	}
	return 0;
}

static int parse_linux(json_t *l, struct oci_spec *s, cap_err *err)
{
	json_t *a = NULL, *v, *o = NULL;
	size_t i;
	char w[128];

	TRY(cap_json_arr(l, "namespaces", "linux", &a, err));
	if (a) {
		json_array_foreach(a, i, v) {
			const char *type = NULL, *path = NULL;
			snprintf(w, sizeof(w), "linux.namespaces[%zu]", i);
			if (!json_is_object(v))
				return bad(err, "%s: must be an object", w);
			TRY(cap_json_str(v, "type", w, &type, err));
			if (!type)
				return bad(err, "%s.type: missing", w);
			int flag = oci_ns_flag(type);
			if (flag < 0)
				return bad(err, "%s.type: unknown namespace type '%s'", w, type);
			for (size_t k = 0; k < s->n_ns; k++)
				if (s->ns[k].flag == flag)
					return bad(err, "%s.type: namespace '%s' given twice", w, type);
			TRY(cap_json_str(v, "path", w, &path, err));
			if (path && path[0] != '/')
				return bad(err, "%s.path: must be an absolute path", w);
			if (path && !*path)
				path = NULL;
			s->ns[s->n_ns++] = (struct oci_ns){ flag, path };
			if (!path)
				s->clone_flags |= flag;
		}
	}
	TRY(parse_idmaps(l, "uidMappings", &s->uidmap, &s->n_uidmap, err));
	TRY(parse_idmaps(l, "gidMappings", &s->gidmap, &s->n_gidmap, err));
	/* With a user namespace joined by path the mappings are informative (runc wants them):
	 * they say whom the rootfs and the exec fifo belong to. */
	if ((s->n_uidmap || s->n_gidmap) && !oci_spec_userns(s))
		return bad(err, "linux.uidMappings: mappings need a user namespace");
	if ((s->clone_flags & CLONE_NEWUSER) && (!s->n_uidmap || !s->n_gidmap))
		return bad(err, "linux.uidMappings: a new user namespace needs uid and gid mappings");
	a = NULL;
	TRY(cap_json_arr(l, "devices", "linux", &a, err));
	if (a)
		TRY(parse_devices(a, s, err));
	TRY(cap_json_str(l, "cgroupsPath", "linux", &s->cgroups_path, err));
	TRY(cap_json_obj(l, "resources", "linux", &o, err));
	if (o) {
		TRY(oci_resources_parse(o, "linux.resources", &s->res, err));
		s->has_resources = true;
	}
	o = NULL;
	TRY(cap_json_obj(l, "sysctl", "linux", &o, err));
	if (o) {
		const char *k;
		s->sysctl = xcalloc(json_object_size(o), sizeof(*s->sysctl));
		json_object_foreach(o, k, v) {
			if (!json_is_string(v))
				return bad(err, "linux.sysctl.%s: must be a string", k);
			if (strstr(k, "..") || k[0] == '/' || k[0] == '.')
				return bad(err, "linux.sysctl.%s: not a sysctl name", k);
			s->sysctl[s->n_sysctl++] = (struct oci_sysctl){ k, json_string_value(v) };
		}
	}
	TRY(cap_json_strv(l, "maskedPaths", "linux", &s->masked, &s->n_masked, err));
	TRY(cap_json_strv(l, "readonlyPaths", "linux", &s->readonly, &s->n_readonly, err));
	const char *prop = NULL;
	TRY(cap_json_str(l, "rootfsPropagation", "linux", &prop, err));
	if (prop) {
		unsigned long set = 0, clr = 0, p = 0;
		bool b = false;
		if (!oci_mount_option(prop, &set, &clr, &p, &b) || !p)
			return bad(err, "linux.rootfsPropagation: unknown propagation '%s'", prop);
		s->rootfs_propagation = p;
	}
	o = NULL;
	TRY(cap_json_obj(l, "seccomp", "linux", &o, err));
	s->seccomp = o;
	TRY(cap_json_str(l, "mountLabel", "linux", &s->mount_label, err));
	o = NULL;
	TRY(cap_json_obj(l, "timeOffsets", "linux", &o, err));
	if (o) {
		static const char *const clocks[] = { "monotonic", "boottime" };
		size_t off = 0;
		for (int k = 0; k < 2; k++) {
			json_t *c = NULL;
			int64_t sec = 0, nsec = 0;
			snprintf(w, sizeof(w), "linux.timeOffsets.%s", clocks[k]);
			TRY(cap_json_obj(o, clocks[k], "linux.timeOffsets", &c, err));
			if (!c)
				continue;
			TRY(cap_json_int(c, "secs", w, &sec, err));
			TRY(cap_json_int(c, "nanosecs", w, &nsec, err));
			if (nsec < 0 || nsec > 999999999)
				return bad(err, "%s.nanosecs: must be 0..999999999", w);
			off += (size_t)snprintf(s->time_offsets + off, sizeof(s->time_offsets) - off,
						"%s %lld %lld\n", clocks[k], (long long)sec, (long long)nsec);
		}
		if (*s->time_offsets && !(s->clone_flags & CLONE_NEWTIME))
			return bad(err, "linux.timeOffsets: needs a new time namespace");
	}
	o = NULL;
	TRY(cap_json_obj(l, "intelRdt", "linux", &o, err));
	if (o)
		return bad(err, "linux.intelRdt: not supported by this runtime");
	return 0;
}

/* After the config's device rules, the devices every container gets (the default nodes,
 * mknod of anything, ptys, tun) and those in linux.devices are allowed, as runc does. */
static void add_default_devrules(struct oci_spec *s)
{
	static const struct oci_dev_rule defs[] = {
		{ true, 'c', -1, -1, "m" }, { true, 'b', -1, -1, "m" },
		{ true, 'c', 1, 3, "rwm" }, { true, 'c', 1, 5, "rwm" }, { true, 'c', 1, 7, "rwm" },
		{ true, 'c', 1, 8, "rwm" }, { true, 'c', 1, 9, "rwm" }, { true, 'c', 5, 0, "rwm" },
		{ true, 'c', 5, 1, "rwm" }, { true, 'c', 5, 2, "rwm" }, { true, 'c', 136, -1, "rwm" },
		{ true, 'c', 10, 200, "rwm" },
	};
	size_t nd = sizeof(defs) / sizeof(defs[0]);
	struct oci_resources *r = &s->res;
	if (!r->n_devrules)
		return;
	struct oci_dev_rule *v = realloc(r->devrules, (r->n_devrules + nd + s->n_devices) * sizeof(*v));
	if (!v)
		abort();
	r->devrules = v;
	memcpy(v + r->n_devrules, defs, sizeof(defs));
	r->n_devrules += nd;
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct oci_device *d = &s->devices[i];
		if (d->type != 'c' && d->type != 'b' && d->type != 'u')
			continue;
		v[r->n_devrules++] = (struct oci_dev_rule){ true, d->type == 'b' ? 'b' : 'c', d->major,
							    d->minor, "rwm" };
	}
}

int oci_spec_parse(json_t *root, struct oci_spec *s, cap_err *err)
{
	json_t *o = NULL, *a = NULL;

	memset(s, 0, sizeof(*s));
	oci_resources_init(&s->res);
	s->root = root;
	if (!json_is_object(root))
		return bad(err, "the top level must be an object");
	TRY(cap_json_str(root, "ociVersion", "", &s->oci_version, err));
	if (!s->oci_version)
		return bad(err, "ociVersion: missing");
	if (s->oci_version[0] != '1' || s->oci_version[1] != '.')
		return bad(err, "ociVersion: unsupported version '%s' (want 1.x)", s->oci_version);
	TRY(cap_json_obj(root, "root", "", &o, err));
	if (!o)
		return bad(err, "root: missing");
	TRY(cap_json_str(o, "path", "root", &s->root_path, err));
	if (!s->root_path || !*s->root_path)
		return bad(err, "root.path: missing");
	TRY(cap_json_bool(o, "readonly", "root", &s->root_readonly, err));
	o = NULL;
	TRY(cap_json_obj(root, "process", "", &o, err));
	if (o) {
		TRY(oci_process_parse(o, "process", &s->proc, err));
		s->has_process = true;
	}
	TRY(cap_json_str(root, "hostname", "", &s->hostname, err));
	TRY(cap_json_str(root, "domainname", "", &s->domainname, err));
	TRY(cap_json_arr(root, "mounts", "", &a, err));
	if (a)
		TRY(parse_mounts(a, s, err));
	o = NULL;
	TRY(cap_json_obj(root, "linux", "", &o, err));
	if (o)
		TRY(parse_linux(o, s, err));
	if ((s->hostname || s->domainname) && !(s->clone_flags & CLONE_NEWUTS)) {
		bool joined = false;
		for (size_t i = 0; i < s->n_ns; i++)
			joined |= s->ns[i].flag == CLONE_NEWUTS;
		if (!joined && s->hostname && *s->hostname)
			return bad(err, "hostname: needs a uts namespace");
	}
	o = NULL;
	TRY(cap_json_obj(root, "hooks", "", &o, err));
	s->hooks_json = o;
	if (o)
		TRY(oci_hooks_parse(o, s, err));
	add_default_devrules(s);
	TRY(cap_json_obj(root, "annotations", "", &s->annotations, err));
	if (s->annotations) {
		const char *k;
		json_t *v;
		json_object_foreach(s->annotations, k, v)
			if (!json_is_string(v))
				return bad(err, "annotations.%s: must be a string", k);
	}
	return 0;
}

int oci_spec_load(const char *path, struct oci_spec *s, cap_err *err)
{
	json_error_t je;
	json_t *root = cap_json_load_path(path, 0, &je);

	memset(s, 0, sizeof(*s));
	if (!root) {
		struct stat st;
		if (stat(path, &st) < 0)
			return cap_errf(err, errno, "config.json: cannot read %s", path);
		return cap_errf(err, 0, "config.json: invalid JSON at line %d column %d: %s", je.line,
				je.column, je.text);
	}
	int r = oci_spec_parse(root, s, err);
	if (r < 0) {
		cap_err_prefix(err, "config.json");
		oci_spec_free(s);
	}
	return r;
}

void oci_spec_free(struct oci_spec *s)
{
	oci_process_free(&s->proc);
	for (size_t i = 0; i < s->n_mounts; i++)
		free(s->mounts[i].data);
	free(s->mounts);
	free(s->uidmap);
	free(s->gidmap);
	free(s->devices);
	oci_resources_free(&s->res);
	free(s->sysctl);
	free(s->masked);
	free(s->readonly);
	for (int k = 0; k < HOOK_KINDS; k++) {
		for (size_t i = 0; i < s->hooks.n[k]; i++) {
			free(s->hooks.h[k][i].args);
			free(s->hooks.h[k][i].env);
		}
		free(s->hooks.h[k]);
	}
	if (s->root)
		json_decref(s->root);
	memset(s, 0, sizeof(*s));
}
