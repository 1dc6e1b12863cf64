#include "mmio.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/efd.h"
#include "../../lib/log.h"

/* Offered by the transport for every device: modern interface, indirect tables, event index. */
#define TRANSPORT_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
			    (1ULL << VIRTIO_RING_F_EVENT_IDX))

void virtio_mmio_init(struct virtio_mmio *t, const struct virtio_dev_ops *ops, void *dev,
		      const struct guest_mem *mem)
{
	memset(t, 0, sizeof(*t));
	t->ops = ops;
	t->dev = dev;
	t->mem = mem;
	pthread_mutex_init(&t->lock, NULL);
	t->host_features = ops->features | TRANSPORT_FEATURES;
	t->nqueues = ops->nqueues < VIRTIO_MMIO_MAX_QUEUES ? ops->nqueues : VIRTIO_MMIO_MAX_QUEUES;
	t->irqfd = -1;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		t->vq[i].mem = mem;
		t->kick[i] = (struct virtio_kick){ .t = t, .q = i, .fd = -1 };
	}
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		if (t->kick[i].fd >= 0)
			close(t->kick[i].fd);
		t->kick[i].fd = -1;
	}
	if (t->irqfd >= 0)
		close(t->irqfd);
	t->irqfd = -1;
	pthread_mutex_destroy(&t->lock);
}

bool virtio_mmio_live(const struct virtio_mmio *t)
{
	return (t->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(t->status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED));
}

static void raise_irq(struct virtio_mmio *t, unsigned bit)
{
	atomic_fetch_or(&t->isr, bit);
	atomic_fetch_add(&t->interrupts, 1);
	efd_signal(t->irqfd);
}

void virtio_mmio_set_needs_reset(struct virtio_mmio *t)
{
	if (t->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	t->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (t->status & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	t->config_gen++;
	if (t->status & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

int virtio_mmio_pop(struct virtio_mmio *t, unsigned q, struct virtq_chain *c)
{
	if (q >= t->nqueues || !virtio_mmio_live(t))
		return 0;
	int r = virtq_pop(&t->vq[q], c);
	if (r < 0)
		virtio_mmio_set_needs_reset(t);
	return r;
}

void virtio_mmio_signal(struct virtio_mmio *t, unsigned q)
{
	if (q < t->nqueues && virtq_should_notify(&t->vq[q]))
		raise_irq(t, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_push(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t written)
{
	if (q >= t->nqueues)
		return;
	virtq_push(&t->vq[q], head, written);
	virtio_mmio_signal(t, q);
}

static void device_reset(struct virtio_mmio *t)
{
	if (t->ops->reset)
		t->ops->reset(t);
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		virtq_reset(&t->vq[i]);
	t->driver_features = 0;
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	t->status = 0;
	atomic_store(&t->isr, 0);
}

void virtio_mmio_reset(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
	device_reset(t);
	pthread_mutex_unlock(&t->lock);
}

static void write_status(struct virtio_mmio *t, uint32_t val)
{
	uint32_t old = t->status;

	if (val == 0) {
		device_reset(t);
		return;
	}
	/* NEEDS_RESET belongs to the device; every other bit only goes 0 -> 1 until a reset. */
	val = (val & ~VIRTIO_CONFIG_S_NEEDS_RESET & 0xff) | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((old & ~val) != 0) {
		cap_debug("virtio-%s: driver tried to clear status bits %#x", t->ops->name, old & ~val);
		return;
	}
	uint32_t added = val & ~old;
	if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
		bool ok = !(t->driver_features & ~t->host_features) &&
			  (t->driver_features & (1ULL << VIRTIO_F_VERSION_1));
		if (!ok)
			val &= ~VIRTIO_CONFIG_S_FEATURES_OK; /* the driver reads it back and gives up */
	}
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && !(val & VIRTIO_CONFIG_S_FEATURES_OK))
		val &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	t->status = val;
	if ((val & ~old & VIRTIO_CONFIG_S_DRIVER_OK) && t->ops->activate)
		t->ops->activate(t);
}

static struct virtq *sel_queue(struct virtio_mmio *t)
{
	return t->queue_sel < t->nqueues ? &t->vq[t->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtq *q = sel_queue(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return 0x74726976; /* "virt" */
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return t->dev_feat_sel < 2 ? (uint32_t)(t->host_features >> (32 * t->dev_feat_sel)) : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? VIRTQ_MAX_SIZE : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return atomic_load(&t->isr);
	case VIRTIO_MMIO_STATUS:
		return t->status;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return q ? (uint32_t)q->desc_gpa : 0;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return q ? (uint32_t)(q->desc_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		return q ? (uint32_t)q->avail_gpa : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		return q ? (uint32_t)(q->avail_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		return q ? (uint32_t)q->used_gpa : 0;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		return q ? (uint32_t)(q->used_gpa >> 32) : 0;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->config_gen;
	default:
		return 0;
	}
}

static void set_lo(uint64_t *v, uint32_t lo)
{
	*v = (*v & 0xffffffff00000000ULL) | lo;
}

static void set_hi(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffULL) | ((uint64_t)hi << 32);
}

/* Returns the queue to kick (QueueNotify without an ioeventfd), or -1. */
static int reg_write(struct virtio_mmio *t, uint64_t off, uint32_t val)
{
	struct virtq *q = sel_queue(t);
	/* Queue registers are frozen while the queue is live. */
	struct virtq *wq = q && !q->ready ? q : NULL;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dev_feat_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (t->drv_feat_sel < 2 && !(t->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			uint64_t mask = 0xffffffffULL << (32 * t->drv_feat_sel);
			t->driver_features = (t->driver_features & ~mask) |
					     ((uint64_t)val << (32 * t->drv_feat_sel));
		}
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drv_feat_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (wq)
			wq->num = val > 0xffff ? 0 : (uint16_t)val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!q)
			break;
		if (val == 0) {
			q->ready = false;
			break;
		}
		if (q->ready)
			break;
		if (!(t->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			virtio_mmio_set_needs_reset(t);
			break;
		}
		q->event_idx = t->driver_features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
		q->indirect = t->driver_features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
		if (virtq_enable(q) < 0) {
			virtio_guest_warn("virtio-%s: queue %u: bad ring addresses or size", t->ops->name, t->queue_sel);
			virtio_mmio_set_needs_reset(t);
		}
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (val < t->nqueues)
			return (int)val;
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		atomic_fetch_and(&t->isr, ~val);
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(t, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		if (wq)
			set_lo(&wq->desc_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (wq)
			set_hi(&wq->desc_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		if (wq)
			set_lo(&wq->avail_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if (wq)
			set_hi(&wq->avail_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		if (wq)
			set_lo(&wq->used_gpa, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (wq)
			set_hi(&wq->used_gpa, val);
		break;
	default:
		break; /* read-only or unknown: ignored */
	}
	return -1;
}

static void config_access(struct virtio_mmio *t, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	if (off >= t->config_len || len > t->config_len - off) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (!is_write)
		memcpy(data, t->config + off, len);
	else if (t->ops->config_write)
		t->ops->config_write(t, (uint32_t)off, data, len);
}

void virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_mmio *t = opaque;
	int kick = -1;

	if (len == 0 || len > 8 || offset >= VIRTIO_MMIO_WINDOW)
		return;
	pthread_mutex_lock(&t->lock);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		config_access(t, offset - VIRTIO_MMIO_CONFIG, data, len, is_write);
	} else if (len != 4 || (offset & 3)) {
		/* 4.2.2.2: registers are 32-bit wide and aligned; anything else is undefined. */
		if (!is_write)
			memset(data, 0, len);
	} else if (is_write) {
		uint32_t v;
		memcpy(&v, data, 4);
		kick = reg_write(t, offset, v);
	} else {
		uint32_t v = reg_read(t, offset);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&t->lock);

	if (kick >= 0) {
		/* Not caught by an ioeventfd: hand it to the I/O thread the same way, or run it
		 * here when nothing is wired (unit tests). */
		int fd = t->kick[kick].fd;
		if (fd < 0)
			virtio_mmio_kick(t, (unsigned)kick);
		else
			efd_signal(fd);
	}
}

void virtio_mmio_kick(struct virtio_mmio *t, unsigned q)
{
	if (q >= t->nqueues)
		return;
	pthread_mutex_lock(&t->lock);
	if (virtio_mmio_live(t) && t->vq[q].ready && !t->vq[q].broken && t->ops->notify)
		t->ops->notify(t, q);
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_kick_event(void *opaque, uint32_t events)
{
	struct virtio_kick *k = opaque;

	(void)events;
	efd_drain(k->fd);
	virtio_mmio_kick(k->t, k->q);
}

void virtio_device_free(struct virtio_mmio *t)
{
	if (t)
		t->ops->destroy(t);
}
