/* The VM's device registry: every device (legacy, ACPI, virtio) is registered once, in creation
 * order, with one ops table. The VM runs the list: reset and save in order, destroy in reverse.
 *
 * save/restore use vmstate sections (vmstate.h): the registry opens a section named after the
 * device instance ("serial", "virtio-blk0", ...) with ops->state_version and calls save to fill
 * its fields; restore gets that section opened, with the version it was written with. A device
 * whose state cannot be saved yet returns -EOPNOTSUPP from both. */
#ifndef CAPSULE_VMM_DEVICE_H
#define CAPSULE_VMM_DEVICE_H

#include <stdint.h>
#include <stdio.h>

#include "../lib/error.h"
#include "vmstate.h"

#define VM_MAX_DEVICES 64
#define VM_DEVICE_NAME_MAX 32
#define VM_DEVICE_ID_MAX 65		/* the API's ids: 1..64 bytes */

/* The namespaces of the ids users give devices (the API's drive_id and iface_id). */
#define VM_ID_DRIVE "drive"
#define VM_ID_IFACE "network-interface"

struct vm_device_ops {
	const char *type;		/* "serial", "virtio-blk", ... */
	uint32_t state_version;		/* version of the section save writes */
	/* Back to the power-on state (registers, FIFOs, queues); host resources stay. */
	void (*reset)(void *opaque);
	/* Write the device's fields into the open section; 0 or -errno (-EOPNOTSUPP). */
	int (*save)(void *opaque, struct vmstate_out *out);
	/* Read them back from the open section (in->version says which layout); 0 or -errno. */
	int (*restore)(void *opaque, const struct vmstate_in *in);
	/* Optional: the VM is pausing (vCPUs parked and the I/O thread quiesced: finish what would
	 * still change guest memory on its own) / resuming (before the I/O thread is released). */
	void (*pause)(void *opaque);
	void (*resume)(void *opaque);
	/* Free it (vCPUs and the I/O thread have stopped). */
	void (*destroy)(void *opaque);
};

struct vm_device {
	char name[VM_DEVICE_NAME_MAX];	/* instance: the type, numbered when there are several */
	const struct vm_device_ops *ops;
	void *opaque;
	const char *id_kind;		/* VM_ID_DRIVE...; NULL: the user named it nothing */
	char id[VM_DEVICE_ID_MAX];
};

struct vm_devices {
	struct vm_device dev[VM_MAX_DEVICES];
	int n;
};

/* Register a device; the registry owns it from here on (destroyed with the others), also when
 * registration fails (then it is destroyed at once). name NULL: ops->type. */
int vm_device_register(struct vm_devices *ds, const char *name, const struct vm_device_ops *ops, void *opaque,
		       cap_err *err);
struct vm_device *vm_device_find(struct vm_devices *ds, const char *name);
/* Give the device called name the user's id in namespace kind (VM_ID_DRIVE...): what the API's
 * PATCH finds it by. -ENOENT (no such device), -EEXIST (the id is taken), -ENAMETOOLONG. */
int vm_device_set_id(struct vm_devices *ds, const char *name, const char *kind, const char *id);
struct vm_device *vm_device_find_id(struct vm_devices *ds, const char *kind, const char *id);
void vm_devices_reset(struct vm_devices *ds);
void vm_devices_pause(struct vm_devices *ds);
void vm_devices_resume(struct vm_devices *ds);
/* Reverse creation order; leaves the registry empty. */
void vm_devices_destroy(struct vm_devices *ds);

/* One device's section: written / read back (the section named d->name). */
int vm_device_save(struct vm_device *d, struct vmstate_out *out);
int vm_device_restore(struct vm_device *d, struct vmstate_in *in);
/* Every device in order; the first failure names the device in err. */
int vm_devices_save(struct vm_devices *ds, struct vmstate_out *out, cap_err *err);
int vm_devices_restore(struct vm_devices *ds, struct vmstate_in *in, cap_err *err);

/* "NAME TYPE save/restore: yes|no" per line, in creation order: whether save works now is
 * found by trying it. */
void vm_device_list(struct vm_devices *ds, FILE *f);

#endif
