/* Device rules on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program built from the rule
 * list and attached to the container's cgroup (v2 has no devices.allow/deny files).
 *
 * The program checks the rules from the last to the first and the first match decides,
 * which is what the v1 files do when the rules are written in order (a later rule
 * overrides an earlier one); no match denies. */
#include "cgroup-devices.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static int access_mask(const char *a)
{
	int m = 0;
	for (; *a; a++)
		m |= *a == 'm' ? BPF_DEVCG_ACC_MKNOD : *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE : 0;
	return m;
}

/* Instructions one rule needs (so jumps over it can be computed). */
static int rule_len(const struct oci_dev_rule *d)
{
	int n = 2; /* r0 = verdict; exit */
	int acc = access_mask(d->access);
	if (d->type != 'a')
		n++;
	if (acc != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE))
		n += 3;
	if (d->major >= 0)
		n++;
	if (d->minor >= 0)
		n++;
	return n;
}

int cg_v2_devices(const char *dir, const struct oci_resources *r, cap_err *err)
{
	size_t cap = 8, n = 0;
	int ret = 0, prog = -1, cgfd = -1;
	bool ended = false;

	if (!r->n_devrules)
		return 0;
	for (size_t i = 0; i < r->n_devrules; i++)
		cap += (size_t)rule_len(&r->devrules[i]);
	struct bpf_insn *p = calloc(cap, sizeof(*p));
	if (!p)
		return cap_errf(err, ENOMEM, "cgroup: device program");
	/* r2 = type, r3 = access, r4 = major, r5 = minor */
	p[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);
	p[n++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
	p[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0);
	p[n++] = INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	p[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);
	p[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);
	for (size_t k = r->n_devrules; k-- > 0;) {
		const struct oci_dev_rule *d = &r->devrules[k];
		int len = rule_len(d);
		int acc = access_mask(d->access);
		/* jump offsets are relative to the next instruction; "next rule" = end of block */
		int left = len;
#define SKIP_REST (short)(left - 1)
		if (d->type != 'a') {
			p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, SKIP_REST,
				      d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
			left--;
		}
		if (acc != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
			/* every requested access must be in the rule's */
			p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_3, 0, 0);
			left--;
			p[n++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_6, 0, 0, ~acc & 7);
			left--;
			p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_6, 0, SKIP_REST, 0);
			left--;
		}
		if (d->major >= 0) {
			p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, SKIP_REST, (int)d->major);
			left--;
		}
		if (d->minor >= 0) {
			p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, SKIP_REST, (int)d->minor);
			left--;
		}
#undef SKIP_REST
		p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, d->allow ? 1 : 0);
		p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		/* A rule matching everything ends the program: the verifier rejects dead code. */
		if (len == 2) {
			ended = true;
			break;
		}
	}
	if (!ended) {
		p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
		p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}

	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (unsigned long)p;
	a.insn_cnt = (unsigned)n;
	a.license = (unsigned long)"GPL";
	prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (prog < 0) {
		ret = cap_errf(err, errno, "cgroup: cannot load the device rules program");
		goto out;
	}
	cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		ret = cap_errf(err, errno, "cgroup: cannot open %s", dir);
		goto out;
	}
	/* `update` replaces the rules: the programs attached before go, once the new one is in
	 * (never a moment without rules), instead of piling up. */
	__u32 old_ids[64];
	__u32 n_old = 0;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (unsigned)cgfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (unsigned long)old_ids;
	a.query.prog_cnt = sizeof(old_ids) / sizeof(old_ids[0]);
	if (syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a)) == 0)
		n_old = a.query.prog_cnt;
	memset(&a, 0, sizeof(a));
	a.target_fd = (unsigned)cgfd;
	a.attach_bpf_fd = (unsigned)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) < 0) {
		ret = cap_errf(err, errno, "cgroup: cannot attach the device rules to %s", dir);
		goto out;
	}
	for (__u32 i = 0; i < n_old; i++) {
		memset(&a, 0, sizeof(a));
		a.prog_id = old_ids[i];
		int ofd = (int)syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &a, sizeof(a));
		if (ofd < 0)
			continue;
		memset(&a, 0, sizeof(a));
		a.target_fd = (unsigned)cgfd;
		a.attach_bpf_fd = (unsigned)ofd;
		a.attach_type = BPF_CGROUP_DEVICE;
		int r = (int)syscall(SYS_bpf, BPF_PROG_DETACH, &a, sizeof(a));
		int e = errno;
		close(ofd);
		if (r < 0 && e != ENOENT) {
			ret = cap_errf(err, e, "cgroup: cannot detach the old device rules from %s", dir);
			goto out;
		}
	}
out:
	if (cgfd >= 0)
		close(cgfd);
	if (prog >= 0)
		close(prog);
	free(p);
	return ret;
}
