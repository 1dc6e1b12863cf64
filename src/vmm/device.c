#include "device.h"

#include <errno.h>
#include <string.h>

int vm_device_register(struct vm_devices *ds, const char *name, const struct vm_device_ops *ops, void *opaque,
		       cap_err *err)
{
	if (!name)
		name = ops->type;
	if (ds->n >= VM_MAX_DEVICES || strlen(name) >= VM_DEVICE_NAME_MAX || vm_device_find(ds, name)) {
		int e = ds->n >= VM_MAX_DEVICES ? ENOSPC : strlen(name) >= VM_DEVICE_NAME_MAX ? ENAMETOOLONG : EEXIST;
		if (ops->destroy)
			ops->destroy(opaque);
		return cap_errf(err, e, "device %s", name);
	}
	struct vm_device *d = &ds->dev[ds->n++];
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->ops = ops;
	d->opaque = opaque;
	d->id_kind = NULL;
	d->id[0] = 0;
	return 0;
}

struct vm_device *vm_device_find(struct vm_devices *ds, const char *name)
{
	for (int i = 0; i < ds->n; i++)
		if (!strcmp(ds->dev[i].name, name))
			return &ds->dev[i];
	return NULL;
}

int vm_device_set_id(struct vm_devices *ds, const char *name, const char *kind, const char *id)
{
	struct vm_device *d = vm_device_find(ds, name);
	if (!d)
		return -ENOENT;
	if (strlen(id) >= VM_DEVICE_ID_MAX)
		return -ENAMETOOLONG;
	struct vm_device *o = vm_device_find_id(ds, kind, id);
	if (o && o != d)
		return -EEXIST;
	d->id_kind = kind;
	snprintf(d->id, sizeof(d->id), "%s", id);
	return 0;
}

struct vm_device *vm_device_find_id(struct vm_devices *ds, const char *kind, const char *id)
{
	for (int i = 0; i < ds->n; i++)
		if (ds->dev[i].id_kind && !strcmp(ds->dev[i].id_kind, kind) && !strcmp(ds->dev[i].id, id))
			return &ds->dev[i];
	return NULL;
}

void vm_devices_reset(struct vm_devices *ds)
{
	for (int i = 0; i < ds->n; i++)
		if (ds->dev[i].ops->reset)
			ds->dev[i].ops->reset(ds->dev[i].opaque);
}

void vm_devices_pause(struct vm_devices *ds)
{
	for (int i = 0; i < ds->n; i++)
		if (ds->dev[i].ops->pause)
			ds->dev[i].ops->pause(ds->dev[i].opaque);
}

void vm_devices_resume(struct vm_devices *ds)
{
	for (int i = ds->n - 1; i >= 0; i--)
		if (ds->dev[i].ops->resume)
			ds->dev[i].ops->resume(ds->dev[i].opaque);
}

void vm_devices_destroy(struct vm_devices *ds)
{
	for (int i = ds->n - 1; i >= 0; i--)
		if (ds->dev[i].ops->destroy)
			ds->dev[i].ops->destroy(ds->dev[i].opaque);
	ds->n = 0;
}

int vm_device_save(struct vm_device *d, struct vmstate_out *out)
{
	if (!d->ops->save)
		return -EOPNOTSUPP;
	int r = vmstate_begin(out, d->name, d->ops->state_version);
	if (r < 0)
		return r;
	r = d->ops->save(d->opaque, out);
	if (r < 0) {
		vmstate_abort_section(out);
		return r;
	}
	return vmstate_end(out);
}

int vm_device_restore(struct vm_device *d, struct vmstate_in *in)
{
	if (!d->ops->restore)
		return -EOPNOTSUPP;
	uint32_t version;
	int r = vmstate_open(in, d->name, &version);
	if (r < 0)
		return r;
	if (version > d->ops->state_version)
		return -EPROTO; /* written by a newer Capsule */
	return d->ops->restore(d->opaque, in);
}

int vm_devices_save(struct vm_devices *ds, struct vmstate_out *out, cap_err *err)
{
	for (int i = 0; i < ds->n; i++) {
		int r = vm_device_save(&ds->dev[i], out);
		if (r < 0)
			return cap_errf(err, -r, "device %s: saving its state", ds->dev[i].name);
	}
	return 0;
}

int vm_devices_restore(struct vm_devices *ds, struct vmstate_in *in, cap_err *err)
{
	for (int i = 0; i < ds->n; i++) {
		int r = vm_device_restore(&ds->dev[i], in);
		if (r < 0)
			return cap_errf(err, -r, "device %s: restoring its state", ds->dev[i].name);
	}
	return 0;
}

void vm_device_list(struct vm_devices *ds, FILE *f)
{
	for (int i = 0; i < ds->n; i++) {
		struct vmstate_out out;
		vmstate_out_init(&out);
		int r = vm_device_save(&ds->dev[i], &out);
		vmstate_out_free(&out);
		fprintf(f, "%s %s save/restore: %s\n", ds->dev[i].name, ds->dev[i].ops->type, r == 0 ? "yes" : "no");
	}
}
