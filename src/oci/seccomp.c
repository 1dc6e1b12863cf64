/* linux.seccomp through libseccomp. The filter is compiled to BPF in the runtime
 * (so an invalid profile fails `create` before anything exists) and loaded by the
 * container process with seccomp(2) just before exec. */
#include "seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/json.h"

static int parse_action(const char *name, json_t *obj, const char *where, uint32_t def_errno,
			uint32_t *out, cap_err *err)
{
	int64_t e = -1;
	if (obj && cap_json_int(obj, "errnoRet", where, &e, err) < 0)
		return -EINVAL;
	uint32_t eno = e >= 0 ? (uint32_t)e : def_errno;
	if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(name, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(name, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO(eno);
	else if (!strcmp(name, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE(eno);
	else if (!strcmp(name, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(name, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else if (!strcmp(name, "SCMP_ACT_NOTIFY"))
		return cap_errf(err, 0, "%s: SCMP_ACT_NOTIFY is not supported", where);
	else
		return cap_errf(err, 0, "%s: unknown action '%s'", where, name);
	return 0;
}

static int parse_op(const char *op, enum scmp_compare *out)
{
	static const struct { const char *n; enum scmp_compare c; } ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i].n)) {
			*out = ops[i].c;
			return 0;
		}
	return -1;
}

static int add_syscall_rule(scmp_filter_ctx ctx, json_t *sc, const char *where, uint32_t act,
			    uint32_t def_act, cap_err *err)
{
	json_t *names = NULL, *args = NULL, *v, *a;
	size_t i, k;
	struct scmp_arg_cmp cmp[6];
	unsigned n_cmp = 0;
	bool dup_index = false;
	char w[320];

	if (cap_json_arr(sc, "names", where, &names, err) < 0 ||
	    cap_json_arr(sc, "args", where, &args, err) < 0)
		return -EINVAL;
	if (args) {
		unsigned seen = 0;
		json_array_foreach(args, k, a) {
			uint64_t index = 0, value = 0, two = 0;
			const char *op = NULL;
			snprintf(w, sizeof(w), "%s.args[%zu]", where, k);
			if (cap_json_uint(a, "index", w, &index, err) <= 0 || index > 5)
				return cap_errf(err, 0, "%s.index: must be 0..5", w);
			if (cap_json_uint(a, "value", w, &value, err) < 0 ||
			    cap_json_uint(a, "valueTwo", w, &two, err) < 0 ||
			    cap_json_str(a, "op", w, &op, err) <= 0)
				return cap_errf(err, 0, "%s: needs index, value and op", w);
			if (n_cmp >= 6)
				return cap_errf(err, 0, "%s: at most 6 argument conditions", w);
			if (parse_op(op, &cmp[n_cmp].op) < 0)
				return cap_errf(err, 0, "%s.op: unknown operator '%s'", w, op);
			cmp[n_cmp].arg = (unsigned)index;
			cmp[n_cmp].datum_a = value;
			cmp[n_cmp].datum_b = two;
			if (seen & (1u << index))
				dup_index = true;
			seen |= 1u << index;
			n_cmp++;
		}
	}
	if (act == def_act || !names)
		return 0;
	json_array_foreach(names, i, v) {
		if (!json_is_string(v))
			return cap_errf(err, 0, "%s.names[%zu]: must be a string", where, i);
		/* Profiles name syscalls other architectures or kernels have: skip those. */
		int nr = seccomp_syscall_resolve_name(json_string_value(v));
		if (nr == __NR_SCMP_ERROR)
			continue;
		int r;
		if (!dup_index) {
			r = seccomp_rule_add_array(ctx, act, nr, n_cmp, cmp);
		} else {
			/* Conditions on the same argument are alternatives (runc's reading). */
			r = 0;
			for (unsigned c = 0; c < n_cmp && r == 0; c++)
				r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[c]);
		}
		if (r < 0 && r != -EEXIST)
			return cap_errf(err, -r, "%s: cannot add a rule for %s", where, json_string_value(v));
	}
	return 0;
}

int oci_seccomp_compile(struct oci_ctx *c, cap_err *err)
{
	json_t *sj = c->spec->seccomp, *a = NULL, *v;
	const char *defname = NULL;
	uint32_t def_act;
	int64_t def_errno = EPERM;
	scmp_filter_ctx ctx = NULL;
	int r = 0, memfd = -1;
	size_t i;
	char w[64];

	if (!sj)
		return 0;
	if (cap_json_str(sj, "defaultAction", "linux.seccomp", &defname, err) <= 0)
		return cap_errf(err, 0, "config.json: linux.seccomp.defaultAction: missing");
	if (cap_json_int(sj, "defaultErrnoRet", "linux.seccomp", &def_errno, err) < 0)
		goto bad;
	if (parse_action(defname, NULL, "linux.seccomp.defaultAction", (uint32_t)def_errno, &def_act,
			 err) < 0)
		goto bad;
	ctx = seccomp_init(def_act);
	if (!ctx)
		return cap_errf(err, ENOMEM, "seccomp_init");
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (cap_json_arr(sj, "architectures", "linux.seccomp", &a, err) < 0)
		goto bad;
	if (a)
		json_array_foreach(a, i, v) {
			char name[64];
			const char *s = json_is_string(v) ? json_string_value(v) : "";
			if (!strncmp(s, "SCMP_ARCH_", 10))
				s += 10;
			snprintf(name, sizeof(name), "%s", s);
			for (char *p = name; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			uint32_t arch = seccomp_arch_resolve_name(name);
			if (!arch) {
				cap_errf(err, 0, "linux.seccomp.architectures[%zu]: unknown '%s'", i,
					 json_is_string(v) ? json_string_value(v) : "?");
				goto bad;
			}
			r = seccomp_arch_add(ctx, arch);
			if (r < 0 && r != -EEXIST) {
				cap_errf(err, -r, "linux.seccomp.architectures[%zu]", i);
				goto bad;
			}
		}
	a = NULL;
	if (cap_json_arr(sj, "flags", "linux.seccomp", &a, err) < 0)
		goto bad;
	if (a)
		json_array_foreach(a, i, v) {
			const char *f = json_is_string(v) ? json_string_value(v) : "";
			if (!strcmp(f, "SECCOMP_FILTER_FLAG_LOG"))
				c->seccomp_flags |= SECCOMP_FILTER_FLAG_LOG;
			else if (!strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
				c->seccomp_flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
			else if (!strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC"))
				c->seccomp_flags |= SECCOMP_FILTER_FLAG_TSYNC;
			else {
				cap_errf(err, 0, "linux.seccomp.flags[%zu]: unknown flag '%s'", i, f);
				goto bad;
			}
		}
	const char *lp = NULL;
	if (cap_json_str(sj, "listenerPath", "linux.seccomp", &lp, err) < 0)
		goto bad;
	if (lp && *lp) {
		cap_errf(err, 0, "linux.seccomp.listenerPath: seccomp notify is not supported");
		goto bad;
	}
	a = NULL;
	if (cap_json_arr(sj, "syscalls", "linux.seccomp", &a, err) < 0)
		goto bad;
	if (a)
		json_array_foreach(a, i, v) {
			const char *an = NULL;
			uint32_t act;
			snprintf(w, sizeof(w), "linux.seccomp.syscalls[%zu]", i);
			if (cap_json_str(v, "action", w, &an, err) <= 0) {
				cap_errf(err, 0, "%s.action: missing", w);
				goto bad;
			}
			char wa[96];
			snprintf(wa, sizeof(wa), "%s.action", w);
			if (parse_action(an, v, wa, (uint32_t)def_errno, &act, err) < 0 ||
			    add_syscall_rule(ctx, v, w, act, def_act, err) < 0)
				goto bad;
		}
	memfd = memfd_create("seccomp", MFD_CLOEXEC);
	if (memfd < 0 || (r = seccomp_export_bpf(ctx, memfd)) < 0) {
		cap_errf(err, memfd < 0 ? errno : -r, "seccomp: cannot export the filter");
		goto bad;
	}
	off_t len = lseek(memfd, 0, SEEK_END);
	/* The kernel refuses a longer program with EINVAL, and only once the init loads it;
	 * say why now, before anything exists (and before the length overflows its u16). */
	if (len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		cap_errf(err, 0, "linux.seccomp: the filter is %lld BPF instructions, the kernel loads at most %d",
			 (long long)(len / (off_t)sizeof(struct sock_filter)), BPF_MAXINSNS);
		goto bad;
	}
	c->seccomp.filter = malloc((size_t)len);
	if (!c->seccomp.filter || pread(memfd, c->seccomp.filter, (size_t)len, 0) != len) {
		cap_errf(err, EIO, "seccomp: cannot read the filter back");
		goto bad;
	}
	c->seccomp.len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
	close(memfd);
	seccomp_release(ctx);
	return 0;
bad:
	if (memfd >= 0)
		close(memfd);
	if (ctx)
		seccomp_release(ctx);
	free(c->seccomp.filter);
	c->seccomp.filter = NULL;
	c->seccomp.len = 0;
	cap_err_prefix(err, "config.json");
	return -EINVAL;
}

int oci_seccomp_load(const struct oci_ctx *c, cap_err *err)
{
	if (!c->seccomp.len)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, c->seccomp_flags, &c->seccomp) < 0)
		return cap_errf(err, errno, "linux.seccomp: cannot load the filter");
	return 0;
}
