/* The snapshot's "config" section (snapshot_config.h). Strings are byte fields without their
 * terminating NUL; a NUL inside one, or an empty required one, is malformed. */
#include "snapshot_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_MAX 4096	/* PATH_MAX: no path or name of ours is longer */

static void put_str(struct vmstate_out *out, const char *name, const char *s)
{
	vmstate_put_bytes(out, name, s ? s : "", s ? strlen(s) : 0);
}

int snapshot_config_encode(const struct vm_config *c, struct vmstate_out *out)
{
	char n[VMSTATE_NAME_MAX + 1];
	vmstate_put_u32(out, "disks", (uint32_t)c->ndisks);
	vmstate_put_bool(out, "root_disk", c->root_disk);
	for (int i = 0; i < c->ndisks; i++) {
		snprintf(n, sizeof(n), "disk%d.path", i);
		put_str(out, n, c->disks[i].path);
		snprintf(n, sizeof(n), "disk%d.readonly", i);
		vmstate_put_bool(out, n, c->disks[i].readonly);
		snprintf(n, sizeof(n), "disk%d.id", i);
		put_str(out, n, c->disks[i].id);
	}
	vmstate_put_u32(out, "nets", (uint32_t)c->nnets);
	for (int i = 0; i < c->nnets; i++) {
		snprintf(n, sizeof(n), "net%d.tap", i);
		put_str(out, n, c->nets[i].tap);
		snprintf(n, sizeof(n), "net%d.mac", i);
		vmstate_put_bytes(out, n, c->nets[i].mac, c->nets[i].has_mac ? 6 : 0);
	}
	put_str(out, "vsock.uds", c->vsock_uds);
	vmstate_put_u32(out, "vsock.cid", c->vsock_cid);
	vmstate_put_bool(out, "rng", c->rng);
	return vmstate_put_bool(out, "balloon", c->balloon);
}

struct dec {
	const struct vmstate_in *in;
	char bad[VMSTATE_NAME_MAX + 1];	/* the first field missing or malformed */
	int r;
};

static void note(struct dec *d, const char *name, int r)
{
	if (r < 0 && !d->r) {
		d->r = r;
		snprintf(d->bad, sizeof(d->bad), "%s", name);
	}
}

/* A string field: NULL when empty and optional; malloc'd otherwise. */
static char *get_str(struct dec *d, const char *name, bool required)
{
	char buf[STR_MAX];
	size_t len = 0;
	int r = vmstate_get_bytes(d->in, name, buf, sizeof(buf) - 1, &len);
	if (r == 0 && (memchr(buf, 0, len) || (required && len == 0)))
		r = -EINVAL;
	if (r < 0 || len == 0) {
		note(d, name, r);
		return NULL;
	}
	buf[len] = 0;
	char *s = strdup(buf);
	if (!s)
		note(d, name, -ENOMEM);
	return s;
}

int snapshot_config_decode(const struct vmstate_in *in, struct vm_config *c, cap_err *err)
{
	struct dec d = { .in = in };
	char n[VMSTATE_NAME_MAX + 1];
	uint32_t ndisks = 0, nnets = 0;

	note(&d, "disks", vmstate_get_u32(in, "disks", &ndisks));
	if (!d.r && ndisks > VM_MAX_DISKS)
		note(&d, "disks", -EINVAL);
	note(&d, "root_disk", vmstate_get_bool(in, "root_disk", &c->root_disk));
	if (!d.r && c->root_disk && ndisks == 0)
		note(&d, "root_disk", -EINVAL);
	for (uint32_t i = 0; !d.r && i < ndisks; i++) {
		struct vm_disk_config *k = &c->disks[i];
		c->ndisks = (int)i + 1; /* so that a failure frees what is filled */
		snprintf(n, sizeof(n), "disk%u.path", i);
		k->path = get_str(&d, n, true);
		snprintf(n, sizeof(n), "disk%u.readonly", i);
		note(&d, n, vmstate_get_bool(in, n, &k->readonly));
		snprintf(n, sizeof(n), "disk%u.id", i);
		k->id = get_str(&d, n, false);
	}
	note(&d, "nets", vmstate_get_u32(in, "nets", &nnets));
	if (!d.r && nnets > VM_MAX_NETS)
		note(&d, "nets", -EINVAL);
	for (uint32_t i = 0; !d.r && i < nnets; i++) {
		struct vm_net_config *k = &c->nets[i];
		size_t len = 0;
		c->nnets = (int)i + 1;
		snprintf(n, sizeof(n), "net%u.tap", i);
		k->tap = get_str(&d, n, true);
		snprintf(n, sizeof(n), "net%u.mac", i);
		int r = vmstate_get_bytes(in, n, k->mac, sizeof(k->mac), &len);
		if (r == 0 && len != 0 && len != 6)
			r = -EINVAL;
		note(&d, n, r);
		k->has_mac = len == 6;
	}
	if (!d.r)
		c->vsock_uds = get_str(&d, "vsock.uds", false);
	note(&d, "vsock.cid", vmstate_get_u32(in, "vsock.cid", &c->vsock_cid));
	note(&d, "rng", vmstate_get_bool(in, "rng", &c->rng));
	note(&d, "balloon", vmstate_get_bool(in, "balloon", &c->balloon));
	if (d.r < 0) {
		int r = cap_errf(err, 0, "field %s: %s", d.bad,
				 d.r == -ENOENT ? "missing" : d.r == -ENOMEM ? "out of memory" : "malformed");
		for (int i = 0; i < c->ndisks; i++) {
			free(c->disks[i].path);
			free(c->disks[i].id);
			c->disks[i].path = c->disks[i].id = NULL;
		}
		for (int i = 0; i < c->nnets; i++) {
			free(c->nets[i].tap);
			c->nets[i].tap = NULL;
		}
		free(c->vsock_uds);
		c->vsock_uds = NULL;
		c->ndisks = c->nnets = 0;
		return r;
	}
	return 0;
}
