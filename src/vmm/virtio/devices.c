/* Creates the configured virtio devices on a VM: a 4 KiB MMIO window and a GSI each, the
 * window on the MMIO bus, one ioeventfd per queue (QueueNotify with the queue index as
 * datamatch) watched by the I/O thread, an irqfd for the interrupt, and an entry in the VM's
 * virtio-mmio list (vm_add_virtio_mmio), which the VMM core turns into ACPI DSDT devices, or
 * into virtio_mmio.device= command-line words when the guest is booted with acpi=off. */
#include "devices.h"

#include <errno.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../lib/log.h"

static void destroy_cb(void *opaque)
{
	virtio_device_free(opaque);
}

static void reset_cb(void *opaque)
{
	virtio_mmio_reset(opaque);
}

static void pause_cb(void *opaque)
{
	struct virtio_mmio *t = opaque;
	if (t->ops->pause)
		t->ops->pause(t);
}

static void resume_cb(void *opaque)
{
	virtio_mmio_kick_ready_queues(opaque);
}

static int save_cb(void *opaque, struct vmstate_out *out)
{
	return virtio_mmio_save(opaque, out);
}

static int restore_cb(void *opaque, const struct vmstate_in *in)
{
	return virtio_mmio_restore(opaque, in);
}

static const struct vm_device_ops virtio_ops = {
	.type = "virtio-mmio",
	.state_version = 1,
	.reset = reset_cb,
	.pause = pause_cb,
	.resume = resume_cb,
	.save = save_cb,
	.restore = restore_cb,
	.destroy = destroy_cb,
};

/* index >= 0: one of several of its kind ("virtio-blk1"); -1: the only one ("virtio-rng").
 * id_kind and id: what the API's PATCH finds the device by (vm_device_find_id), or NULL. */
static int add_device(struct vm *vm, struct virtio_mmio *t, int index, const char *id_kind, const char *id,
		      cap_err *err)
{
	const char *name = t->ops->name;
	char dev_name[VM_DEVICE_NAME_MAX];
	int r;

	if (index >= 0)
		snprintf(dev_name, sizeof(dev_name), "virtio-%s%d", name, index);
	else
		snprintf(dev_name, sizeof(dev_name), "virtio-%s", name);
	/* From here on vm_destroy frees the device, whatever fails below. */
	if (vm_add_device(vm, dev_name, &virtio_ops, t, NULL) < 0)
		return cap_errf(err, ENOSPC, "virtio-%s: too many devices", name);
	/* A made-up id ("disk1") another device was given on purpose keeps the first one: the
	 * config's lookup (vm_config_find_disk) finds that one too. */
	if (id && (r = vm_device_set_id(&vm->devices, dev_name, id_kind, id)) < 0)
		cap_debug("%s: API id '%s': %s", dev_name, id, strerror(-r));
	uint64_t base = vm_alloc_mmio(vm, VIRTIO_MMIO_WINDOW);
	if (!base)
		return cap_errf(err, ENOSPC, "virtio-%s: no MMIO space left", name);
	int gsi = vm_alloc_irq(vm);
	if (gsi < 0)
		return cap_errf(err, -gsi, "virtio-%s: no interrupt line left", name);
	r = bus_register(&vm->mmio, base, VIRTIO_MMIO_WINDOW, virtio_mmio_access, t, name);
	if (r < 0)
		return cap_errf(err, -r, "virtio-%s: MMIO window at %#llx", name, (unsigned long long)base);

	t->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->irqfd < 0)
		return cap_errf(err, errno, "virtio-%s: eventfd", name);
	r = vm_irqfd(vm, t->irqfd, (uint32_t)gsi);
	if (r < 0)
		return cap_errf(err, -r, "virtio-%s: irqfd for GSI %d", name, gsi);

	for (unsigned q = 0; q < t->nqueues; q++) {
		struct virtio_kick *k = &t->kick[q];
		k->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (k->fd < 0)
			return cap_errf(err, errno, "virtio-%s: eventfd", name);
		/* Without an ioeventfd the write still arrives as an MMIO exit, which
		 * virtio_mmio_access forwards to the same eventfd: slower, same path. */
		r = vm_ioeventfd(vm, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, false, k->fd, true, q);
		if (r < 0)
			cap_debug("virtio-%s: no ioeventfd for queue %u (%s)", name, q, strerror(-r));
		r = evloop_add(&vm->io, k->fd, EPOLLIN, virtio_mmio_kick_event, k);
		if (r < 0)
			return cap_errf(err, -r, "virtio-%s: I/O loop", name);
	}
	if (t->ops->attach && (r = t->ops->attach(t, &vm->io)) < 0)
		return cap_errf(err, -r, "virtio-%s: I/O loop", name);

	r = vm_add_virtio_mmio(vm, base, VIRTIO_MMIO_WINDOW, (uint32_t)gsi);
	if (r < 0)
		return cap_errf(err, -r, "virtio-%s: too many virtio-mmio devices", name);
	cap_debug("virtio-%s at %#llx, GSI %d", name, (unsigned long long)base, gsi);
	return 0;
}

/* A constructor failed: its errno (ENOENT for a missing image, EACCES...), not a blanket EINVAL. */
static int create_failed(const cap_err *err)
{
	return err->errnum > 0 ? -err->errnum : -EINVAL;
}

int virtio_devices_create(struct vm *vm, const struct vm_config *cfg, cap_err *err)
{
	struct virtio_mmio *t;
	int r;

	/* Disks first, in command-line order: the first one is /dev/vda. */
	for (int i = 0; i < cfg->ndisks; i++) {
		char buf[16];
		if (!(t = virtio_blk_create(&vm->mem, &cfg->disks[i], err)))
			return create_failed(err);
		if ((r = add_device(vm, t, i, VM_ID_DRIVE, vm_config_disk_id(cfg, i, buf, sizeof(buf)), err)) < 0)
			return r;
	}
	for (int i = 0; i < cfg->nnets; i++) {
		char buf[16];
		if (!(t = virtio_net_create(&vm->mem, &cfg->nets[i], err)))
			return create_failed(err);
		if ((r = add_device(vm, t, i, VM_ID_IFACE, vm_config_net_id(cfg, i, buf, sizeof(buf)), err)) < 0)
			return r;
	}
	if (cfg->vsock_uds) {
		if (!(t = virtio_vsock_create(&vm->mem, cfg->vsock_cid, cfg->vsock_uds, err)))
			return create_failed(err);
		if ((r = add_device(vm, t, -1, NULL, NULL, err)) < 0)
			return r;
	}
	if (cfg->rng) {
		if (!(t = virtio_rng_create(&vm->mem, err)))
			return create_failed(err);
		if ((r = add_device(vm, t, -1, NULL, NULL, err)) < 0)
			return r;
	}
	if (cfg->balloon) {
		if (!(t = virtio_balloon_create(&vm->mem, err)))
			return create_failed(err);
		if ((r = add_device(vm, t, -1, NULL, NULL, err)) < 0)
			return r;
	}
	return 0;
}
