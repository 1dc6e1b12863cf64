/* The VM configuration validator (config.h). Option strings are split on ',' keeping empty
 * fields, so ",ro" is an empty path, not a disk called "ro". */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define BLK_ID_MAX 20	/* VIRTIO_BLK_ID_BYTES: what the guest can read back */
#define MEMORY_MIB_MAX (UINT64_MAX >> 21)	/* bytes (<< 20) must still fit, with room to spare */

void vm_config_init(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ncpus = 1;
	c->memory_mib = VM_DEFAULT_MEMORY_MIB;
	c->console = VM_CONSOLE_STDIO;
}

void vm_config_free(struct vm_config *c)
{
	free(c->kernel);
	free(c->initrd);
	free(c->cmdline);
	free(c->console_path);
	for (int i = 0; i < c->ndisks && i < VM_MAX_DISKS; i++) {
		free(c->disks[i].path);
		free(c->disks[i].id);
	}
	for (int i = 0; i < c->nnets && i < VM_MAX_NETS; i++) {
		free(c->nets[i].tap);
		free(c->nets[i].id);
	}
	free(c->vsock_uds);
	memset(c, 0, sizeof(*c));
}

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src && !(*dst = strdup(src)))
		return -ENOMEM;
	return 0;
}

int vm_config_copy(struct vm_config *dst, const struct vm_config *src)
{
	*dst = *src;
	/* Every pointer is replaced below; clear them first so a failure frees only copies. */
	dst->kernel = dst->initrd = dst->cmdline = dst->console_path = dst->vsock_uds = NULL;
	for (int i = 0; i < VM_MAX_DISKS; i++)
		dst->disks[i].path = dst->disks[i].id = NULL;
	for (int i = 0; i < VM_MAX_NETS; i++)
		dst->nets[i].tap = dst->nets[i].id = NULL;
	int r = dup_str(&dst->kernel, src->kernel) | dup_str(&dst->initrd, src->initrd) |
		dup_str(&dst->cmdline, src->cmdline) | dup_str(&dst->console_path, src->console_path) |
		dup_str(&dst->vsock_uds, src->vsock_uds);
	for (int i = 0; i < src->ndisks && i < VM_MAX_DISKS; i++)
		r |= dup_str(&dst->disks[i].path, src->disks[i].path) | dup_str(&dst->disks[i].id, src->disks[i].id);
	for (int i = 0; i < src->nnets && i < VM_MAX_NETS; i++)
		r |= dup_str(&dst->nets[i].tap, src->nets[i].tap) | dup_str(&dst->nets[i].id, src->nets[i].id);
	if (r) {
		vm_config_free(dst);
		return -ENOMEM;
	}
	return 0;
}

int vm_config_set_string(char **field, const char *value, cap_err *err)
{
	char *s = NULL;
	if (value && !(s = strdup(value)))
		return cap_errf(err, ENOMEM, "VM configuration");
	free(*field);
	*field = s;
	return 0;
}

/* A usage error (CAP_EXIT_USAGE): the value is wrong, not the host. */
__attribute__((format(printf, 2, 3))) static int usage(cap_err *err, const char *fmt, ...)
{
	va_list ap;
	bool already = err && err->set;
	va_start(ap, fmt);
	int r = cap_verrf(err, 0, fmt, ap);
	va_end(ap);
	if (err && !already)
		err->exit_code = CAP_EXIT_USAGE;
	return r;
}

/* Decimal digits only (no sign, space or base prefix); -ERANGE past max, -EINVAL otherwise. */
static int parse_dec(const char *s, const char **end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (end)
		*end = p;
	else if (*p)
		return -EINVAL;
	*out = v;
	return 0;
}

int vm_config_set_cpus(struct vm_config *c, const char *s, cap_err *err)
{
	uint64_t v;
	int r = parse_dec(s, NULL, INT_MAX, &v);
	if (r == -ERANGE)
		return usage(err, "cpus %.80s: too large", s);
	if (r < 0)
		return usage(err, "cpus '%.80s': not a number", s);
	if (v == 0)
		return usage(err, "cpus %.80s: a VM needs at least one vCPU", s);
	c->ncpus = (int)v;
	return 0;
}

/* The unit after a number: its shift in powers of 1024 from bytes, -1 if unknown. "" is MiB. */
static int unit_shift(const char *u)
{
	static const char units[] = "kmgt";
	if (!*u)
		return 20;
	const char *m = strchr(units, u[0] | 0x20);
	if (!m || !u[0])
		return -1;
	const char *rest = u + 1;
	if (!*rest || !strcasecmp(rest, "ib") || !strcasecmp(rest, "b") || !strcasecmp(rest, "i"))
		return 10 * (int)(m - units + 1);
	return -1;
}

int vm_parse_memory_mib(const char *s, uint64_t *mib, cap_err *err)
{
	const char *end;
	uint64_t v;
	int r = parse_dec(s, &end, UINT64_MAX, &v);
	if (r == -ERANGE)
		return usage(err, "memory %.80s: too large", s);
	if (r < 0)
		return usage(err, "memory '%.80s': not a size (a number of MiB, or with a unit: 512M, 2G)", s);
	int shift = unit_shift(end);
	if (shift < 0)
		return usage(err, "memory %.80s: unknown unit '%.80s' (K, M, G or T)", s, end);
	uint64_t out;
	if (shift >= 20) {
		unsigned up = (unsigned)(shift - 20);
		if (up && v > (MEMORY_MIB_MAX >> up))
			return usage(err, "memory %.80s: too large", s);
		out = v << up;
	} else {
		unsigned down = (unsigned)(20 - shift);
		if (v & ((1ULL << down) - 1))
			return usage(err, "memory %.80s: not a whole number of MiB", s);
		out = v >> down;
	}
	if (out > MEMORY_MIB_MAX)
		return usage(err, "memory %.80s: too large", s);
	*mib = out;
	return 0;
}

int vm_config_set_memory(struct vm_config *c, const char *s, cap_err *err)
{
	return vm_parse_memory_mib(s, &c->memory_mib, err);
}

int vm_config_set_console(struct vm_config *c, const char *s, cap_err *err)
{
	if (!strcmp(s, "stdio")) {
		c->console = VM_CONSOLE_STDIO;
	} else if (!strcmp(s, "none")) {
		c->console = VM_CONSOLE_NONE;
	} else if (!strncmp(s, "file:", 5) && s[5]) {
		if (vm_config_set_string(&c->console_path, s + 5, err) < 0)
			return -ENOMEM;
		c->console = VM_CONSOLE_FILE;
	} else {
		return usage(err, "console '%.80s': want stdio, none or file:PATH", s);
	}
	return 0;
}

/* Splits spec at ',' into at most max fields (kept empty ones); returns the count, or -1 when
 * there are more. The fields point into buf, a copy of spec the caller frees. */
static int split(const char *spec, char **buf, char **field, int max)
{
	*buf = strdup(spec);
	if (!*buf)
		return -2;
	int n = 0;
	for (char *p = *buf;; p++) {
		if (n == max)
			return -1;
		field[n++] = p;
		p = strchr(p, ',');
		if (!p)
			return n;
		*p = 0;
	}
}

#define MAX_FIELDS 8

static int split_or_fail(const char *what, const char *spec, char **buf, char **field, cap_err *err)
{
	int n = split(spec, buf, field, MAX_FIELDS);
	if (n == -2)
		return cap_errf(err, ENOMEM, "%.80s", what);
	if (n < 0) {
		free(*buf);
		return usage(err, "%.80s '%.80s': too many options", what, spec);
	}
	return n;
}

static int parse_disk(struct vm_disk_config *d, const char *spec, cap_err *err)
{
	char *buf, *f[MAX_FIELDS];
	int n = split_or_fail("disk", spec, &buf, f, err), r = 0;
	if (n < 0)
		return n;
	memset(d, 0, sizeof(*d));
	if (!*f[0]) {
		r = usage(err, "disk '%.80s': the path is empty (want PATH[,ro][,id=NAME])", spec);
		goto out;
	}
	char what[96];
	snprintf(what, sizeof(what), "disk %.80s", f[0]);
	for (int i = 1; i < n && !r; i++) {
		int m = rl_parse_field(what, f[i], "", "iops", &d->rl, err);
		if (m < 0)
			r = m;
		else if (m)
			continue;
		else if (!strcmp(f[i], "ro"))
			d->readonly = true;
		else if (!strcmp(f[i], "rw"))
			d->readonly = false;
		else if (!strncmp(f[i], "id=", 3) && f[i][3] && strlen(f[i] + 3) <= BLK_ID_MAX && !d->id)
			r = (d->id = strdup(f[i] + 3)) ? 0 : cap_errf(err, ENOMEM, "disk %.80s", f[0]);
		else if (!strncmp(f[i], "id=", 3) && d->id)
			r = usage(err, "disk %.80s: id given twice", f[0]);
		else if (!strncmp(f[i], "id=", 3))
			r = usage(err, "disk %.80s: id must be 1 to %d bytes", f[0], BLK_ID_MAX);
		else if (!*f[i])
			r = usage(err, "disk %.80s: empty option in '%.80s'", f[0], spec);
		else
			r = usage(err, "disk %.80s: unknown option '%.80s'", f[0], f[i]);
	}
	if (!r)
		r = rl_check(what, "", "iops", &d->rl, err);
	if (!r && !(d->path = strdup(f[0])))
		r = cap_errf(err, ENOMEM, "disk %.80s", f[0]);
out:
	if (r < 0) {
		free(d->id);
		d->id = NULL;
	}
	free(buf);
	return r;
}

int vm_config_add_disk(struct vm_config *c, const char *spec, cap_err *err)
{
	if (c->ndisks >= VM_MAX_DISKS)
		return usage(err, "disk %.80s: at most %d disks", spec, VM_MAX_DISKS);
	int r = parse_disk(&c->disks[c->ndisks], spec, err);
	if (r == 0)
		c->ndisks++;
	return r;
}

int vm_config_set_root_disk(struct vm_config *c, const char *path, cap_err *err)
{
	if (c->root_disk)
		return usage(err, "root disk %.80s: a VM has one root disk", path);
	if (!*path)
		return usage(err, "root disk: the path is empty");
	if (c->ndisks >= VM_MAX_DISKS)
		return usage(err, "root disk %.80s: at most %d disks", path, VM_MAX_DISKS);
	char *p = strdup(path);
	if (!p)
		return cap_errf(err, ENOMEM, "root disk %.80s", path);
	/* The root disk is the first virtio-blk device, so the guest sees it as /dev/vda. */
	memmove(&c->disks[1], &c->disks[0], (size_t)c->ndisks * sizeof(c->disks[0]));
	c->disks[0] = (struct vm_disk_config){ .path = p };
	c->ndisks++;
	c->root_disk = true;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Exactly six two-digit hex groups separated by ':'. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0 || s[2] != (i == 5 ? 0 : ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	return 0;
}

int vm_config_add_net(struct vm_config *c, const char *spec, cap_err *err)
{
	if (c->nnets >= VM_MAX_NETS)
		return usage(err, "net %.80s: at most %d interfaces", spec, VM_MAX_NETS);
	struct vm_net_config *nc = &c->nets[c->nnets];
	char *buf, *f[MAX_FIELDS];
	int n = split_or_fail("net", spec, &buf, f, err), r = 0;
	if (n < 0)
		return n;
	memset(nc, 0, sizeof(*nc));
	const char *tap = NULL;
	char what[96];
	snprintf(what, sizeof(what), "net %.80s", spec);
	for (int i = 0; i < n && !r; i++) {
		int m = rl_parse_field(what, f[i], "rx-", "ops", &nc->rx, err);
		if (!m)
			m = rl_parse_field(what, f[i], "tx-", "ops", &nc->tx, err);
		if (m < 0)
			r = m;
		else if (m)
			continue;
		else if (!strncmp(f[i], "tap=", 4) && f[i][4] && !tap) {
			tap = f[i] + 4;
		} else if (!strncmp(f[i], "mac=", 4) && !nc->has_mac) {
			if (parse_mac(f[i] + 4, nc->mac) < 0)
				r = usage(err, "net %.80s: bad MAC address '%.80s' (want six hex bytes like 52:54:00:12:34:56)", spec,
					  f[i] + 4);
			else if (nc->mac[0] & 1)
				r = usage(err, "net %.80s: MAC address %.80s is a multicast address", spec, f[i] + 4);
			nc->has_mac = true;
		} else if (!strncmp(f[i], "tap=", 4) || !strncmp(f[i], "mac=", 4)) {
			r = usage(err, "net %.80s: '%.80s' given twice or empty", spec, f[i]);
		} else {
			r = usage(err, "net %.80s: unknown option '%.80s' (want tap=NAME[,mac=MAC][,rx-bw=..,tx-bw=..])", spec, f[i]);
		}
	}
	if (!r && !tap)
		r = usage(err, "net '%.80s': tap=NAME is required", spec);
	if (!r && !(r = rl_check(what, "rx-", "ops", &nc->rx, err)))
		r = rl_check(what, "tx-", "ops", &nc->tx, err);
	if (!r && !(nc->tap = strdup(tap)))
		r = cap_errf(err, ENOMEM, "net %.80s", spec);
	free(buf);
	if (r < 0)
		memset(nc, 0, sizeof(*nc));
	else
		c->nnets++;
	return r;
}

int vm_config_set_vsock(struct vm_config *c, const char *spec, cap_err *err)
{
	if (c->vsock_uds)
		return usage(err, "vsock %.80s: a VM has one vsock device", spec);
	char *buf, *f[MAX_FIELDS];
	int n = split_or_fail("vsock", spec, &buf, f, err), r = 0;
	if (n < 0)
		return n;
	const char *uds = NULL, *cid_s = NULL;
	uint64_t cid = 0;
	for (int i = 0; i < n && !r; i++) {
		if (!strncmp(f[i], "cid=", 4) && !cid_s) {
			cid_s = f[i] + 4;
			int e = parse_dec(cid_s, NULL, UINT32_MAX, &cid);
			if (e < 0)
				r = usage(err, "vsock cid '%.80s': %.80s", cid_s, e == -ERANGE ? "too large" : "not a number");
		} else if (!strncmp(f[i], "uds=", 4) && f[i][4] && !uds) {
			uds = f[i] + 4;
		} else if (!strncmp(f[i], "cid=", 4) || !strncmp(f[i], "uds=", 4)) {
			r = usage(err, "vsock %.80s: '%.80s' given twice or empty", spec, f[i]);
		} else {
			r = usage(err, "vsock %.80s: unknown option '%.80s' (want cid=N,uds=PATH)", spec, f[i]);
		}
	}
	if (!r && !uds)
		r = usage(err, "vsock '%.80s': uds=PATH is required", spec);
	else if (!r && !cid_s)
		r = usage(err, "vsock '%.80s': cid=N is required", spec);
	else if (!r && (cid < 3 || cid == UINT32_MAX))
		r = usage(err, "vsock cid %.80s: must be 3 or more (0-2 are reserved) and below 4294967295 (any)", cid_s);
	if (!r && !(c->vsock_uds = strdup(uds)))
		r = cap_errf(err, ENOMEM, "vsock %.80s", spec);
	if (!r)
		c->vsock_cid = (uint32_t)cid;
	free(buf);
	return r;
}

int vm_config_virtio_count(const struct vm_config *c)
{
	return c->ndisks + c->nnets + (c->vsock_uds ? 1 : 0) + c->rng + c->balloon;
}

static bool empty(const char *s)
{
	return s && !*s;
}

const char *vm_config_disk_id(const struct vm_config *c, int i, char *buf, size_t len)
{
	if (c->disks[i].id)
		return c->disks[i].id;
	snprintf(buf, len, "disk%d", i);
	return buf;
}

const char *vm_config_net_id(const struct vm_config *c, int i, char *buf, size_t len)
{
	if (c->nets[i].id)
		return c->nets[i].id;
	snprintf(buf, len, "eth%d", i);
	return buf;
}

int vm_config_find_disk(const struct vm_config *c, const char *id)
{
	char buf[16];
	for (int i = 0; i < c->ndisks; i++)
		if (!strcmp(vm_config_disk_id(c, i, buf, sizeof(buf)), id))
			return i;
	return -1;
}

int vm_config_find_net(const struct vm_config *c, const char *id)
{
	char buf[16];
	for (int i = 0; i < c->nnets; i++)
		if (!strcmp(vm_config_net_id(c, i, buf, sizeof(buf)), id))
			return i;
	return -1;
}

int vm_config_validate(const struct vm_config *c, cap_err *err)
{
	if (c->memory_mib < VM_MIN_MEMORY_MIB)
		return usage(err, "memory %llu MiB: below the minimum of %d MiB",
				     (unsigned long long)c->memory_mib, VM_MIN_MEMORY_MIB);
	if (c->memory_mib > MEMORY_MIB_MAX)
		return usage(err, "memory %llu MiB: too large",
				     (unsigned long long)c->memory_mib);
	if (c->ncpus < 1)
		return usage(err, "cpus %d: a VM needs at least one vCPU", c->ncpus);
	if (c->ndisks < 0 || c->ndisks > VM_MAX_DISKS || c->nnets < 0 || c->nnets > VM_MAX_NETS)
		return usage(err, "%d disks and %d network interfaces: at most %d and %d",
				     c->ndisks, c->nnets, VM_MAX_DISKS, VM_MAX_NETS);
	int nvirtio = vm_config_virtio_count(c);
	if (nvirtio > VM_MAX_VIRTIO_DEVICES)
		return usage(err, "%d virtio devices: at most %d (one interrupt line each)",
				     nvirtio, VM_MAX_VIRTIO_DEVICES);
	if (empty(c->kernel) || empty(c->initrd))
		return usage(err, "%.80s: the path is empty", empty(c->kernel) ? "kernel" : "initrd");
	if (c->console == VM_CONSOLE_FILE && (!c->console_path || !*c->console_path))
		return usage(err, "console file: the path is empty");
	for (int i = 0; i < c->ndisks; i++)
		if (!c->disks[i].path || !*c->disks[i].path)
			return usage(err, "disk %d: the path is empty", i);
	for (int i = 0; i < c->nnets; i++)
		if (!c->nets[i].tap || !*c->nets[i].tap)
			return usage(err, "net %d: the TAP name is empty", i);
	if (c->vsock_uds && (!*c->vsock_uds || c->vsock_cid < 3 || c->vsock_cid == UINT32_MAX))
		return usage(err, "vsock cid %u, socket '%.80s': want a cid of 3 or more and a path",
				     c->vsock_cid, c->vsock_uds);
	return 0;
}
