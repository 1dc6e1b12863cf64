/* The virtio-mmio transport's state for a snapshot (mmio.h): the register file, the status,
 * the feature words, the config space, and every queue's addresses and positions (the next
 * available slot to consume, our used index, the EVENT_IDX suppression state). The rings
 * themselves live in guest memory, which the snapshot carries. A device with state of its own
 * adds it through its ops' save/restore; one without those cannot be snapshotted.
 *
 * Restore reads and checks the transport's fields before anything changes (a device's own part
 * that fails resets the device again): a hostile section cannot make
 * a queue point outside guest memory (the rings are mapped through virtq_enable, as when the
 * driver enables them) or a device offer other features than it does. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/efd.h"
#include "mmio.h"

#define QF(buf, q, f) (snprintf((buf), sizeof(buf), "q%u.%s", (q), (f)), (buf))

int virtio_mmio_save(struct virtio_mmio *t, struct vmstate_out *out)
{
	char n[VMSTATE_NAME_MAX + 1];
	if (!t->ops->save)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&t->lock);
	vmstate_put_u32(out, "device_id", t->ops->device_id);
	vmstate_put_u64(out, "host_features", t->host_features);
	vmstate_put_u64(out, "driver_features", t->driver_features);
	vmstate_put_u32(out, "dev_feat_sel", t->dev_feat_sel);
	vmstate_put_u32(out, "drv_feat_sel", t->drv_feat_sel);
	vmstate_put_u32(out, "queue_sel", t->queue_sel);
	vmstate_put_u32(out, "status", t->status);
	vmstate_put_u32(out, "isr", atomic_load(&t->isr));
	vmstate_put_u32(out, "config_gen", t->config_gen);
	vmstate_put_bytes(out, "config", t->config, t->config_len);
	vmstate_put_u32(out, "queues", t->nqueues);
	for (unsigned i = 0; i < t->nqueues; i++) {
		const struct virtq *q = &t->vq[i];
		vmstate_put_u16(out, QF(n, i, "num"), q->num);
		vmstate_put_bool(out, QF(n, i, "ready"), q->ready);
		vmstate_put_bool(out, QF(n, i, "broken"), q->broken);
		vmstate_put_bool(out, QF(n, i, "event_idx"), q->event_idx);
		vmstate_put_bool(out, QF(n, i, "indirect"), q->indirect);
		vmstate_put_u64(out, QF(n, i, "desc"), q->desc_gpa);
		vmstate_put_u64(out, QF(n, i, "avail"), q->avail_gpa);
		vmstate_put_u64(out, QF(n, i, "used"), q->used_gpa);
		vmstate_put_u16(out, QF(n, i, "last_avail"), q->last_avail);
		vmstate_put_u16(out, QF(n, i, "used_idx"), q->used_idx);
		vmstate_put_u16(out, QF(n, i, "signalled_used"), q->signalled_used);
		vmstate_put_bool(out, QF(n, i, "signalled_valid"), q->signalled_valid);
	}
	int r = t->ops->save(t, out);
	pthread_mutex_unlock(&t->lock);
	return r < 0 ? r : out->error;
}

int virtio_mmio_restore(struct virtio_mmio *t, const struct vmstate_in *in)
{
	char n[VMSTATE_NAME_MAX + 1];
	uint32_t device_id, dev_sel, drv_sel, qsel, status, isr, gen, nq;
	uint64_t host, driver;
	uint8_t config[VIRTIO_MMIO_CONFIG_MAX];
	size_t config_len;
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
	int r;

	if (!t->ops->restore)
		return -EOPNOTSUPP;
	if ((r = vmstate_get_u32(in, "device_id", &device_id)) < 0 ||
	    (r = vmstate_get_u64(in, "host_features", &host)) < 0 ||
	    (r = vmstate_get_u64(in, "driver_features", &driver)) < 0 ||
	    (r = vmstate_get_u32(in, "dev_feat_sel", &dev_sel)) < 0 ||
	    (r = vmstate_get_u32(in, "drv_feat_sel", &drv_sel)) < 0 ||
	    (r = vmstate_get_u32(in, "queue_sel", &qsel)) < 0 || (r = vmstate_get_u32(in, "status", &status)) < 0 ||
	    (r = vmstate_get_u32(in, "isr", &isr)) < 0 || (r = vmstate_get_u32(in, "config_gen", &gen)) < 0 ||
	    (r = vmstate_get_bytes(in, "config", config, sizeof(config), &config_len)) < 0 ||
	    (r = vmstate_get_u32(in, "queues", &nq)) < 0)
		return r;
	/* The same kind of device, offering the same: the guest's driver negotiated with that one. */
	if (device_id != t->ops->device_id || host != t->host_features || (driver & ~host) || status > 0xff ||
	    isr > 3 || nq != t->nqueues || config_len != t->config_len)
		return -EINVAL;
	for (unsigned i = 0; i < nq; i++) {
		struct virtq *q = &vq[i];
		bool ready;
		*q = (struct virtq){ .mem = t->mem };
		if ((r = vmstate_get_u16(in, QF(n, i, "num"), &q->num)) < 0 ||
		    (r = vmstate_get_bool(in, QF(n, i, "ready"), &ready)) < 0 ||
		    (r = vmstate_get_bool(in, QF(n, i, "broken"), &q->broken)) < 0 ||
		    (r = vmstate_get_bool(in, QF(n, i, "event_idx"), &q->event_idx)) < 0 ||
		    (r = vmstate_get_bool(in, QF(n, i, "indirect"), &q->indirect)) < 0 ||
		    (r = vmstate_get_u64(in, QF(n, i, "desc"), &q->desc_gpa)) < 0 ||
		    (r = vmstate_get_u64(in, QF(n, i, "avail"), &q->avail_gpa)) < 0 ||
		    (r = vmstate_get_u64(in, QF(n, i, "used"), &q->used_gpa)) < 0 ||
		    (r = vmstate_get_u16(in, QF(n, i, "last_avail"), &q->last_avail)) < 0 ||
		    (r = vmstate_get_u16(in, QF(n, i, "used_idx"), &q->used_idx)) < 0 ||
		    (r = vmstate_get_u16(in, QF(n, i, "signalled_used"), &q->signalled_used)) < 0 ||
		    (r = vmstate_get_bool(in, QF(n, i, "signalled_valid"), &q->signalled_valid)) < 0)
			return r;
		if (q->num > VIRTQ_MAX_SIZE)
			return -EINVAL;
		if (ready) {
			/* maps the rings, checked as for the driver's own QueueReady write */
			struct virtq saved = *q;
			if (virtq_enable(q) < 0)
				return -EINVAL;
			q->last_avail = saved.last_avail;
			q->used_idx = saved.used_idx;
			q->signalled_used = saved.signalled_used;
			q->signalled_valid = saved.signalled_valid;
			q->broken = saved.broken;
		}
	}
	pthread_mutex_lock(&t->lock);
	t->driver_features = driver;
	t->dev_feat_sel = dev_sel;
	t->drv_feat_sel = drv_sel;
	t->queue_sel = qsel;
	t->status = status;
	atomic_store(&t->isr, isr);
	t->config_gen = gen;
	memcpy(t->config, config, config_len);
	for (unsigned i = 0; i < nq; i++)
		t->vq[i] = vq[i];
	/* the device's part sees the transport as the driver left it (features, queues) */
	r = t->ops->restore(t, in);
	pthread_mutex_unlock(&t->lock);
	if (r < 0)
		virtio_mmio_reset(t); /* nothing half-restored */
	return r;
}

void virtio_mmio_kick_ready_queues(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
	bool live = virtio_mmio_live(t);
	pthread_mutex_unlock(&t->lock);
	for (unsigned i = 0; live && i < t->nqueues; i++)
		if (t->vq[i].ready && t->kick[i].fd >= 0)
			efd_signal(t->kick[i].fd);
}
