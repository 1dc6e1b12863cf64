/* virtio-blk (virtio 1.2, 5.2): raw images through the asynchronous block backend.
 * Requests are parsed and validated on the I/O thread, started in one batch per kick, and
 * completed from the backend's eventfd, also on the I/O thread. */
#include "blk.h"

#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "../../lib/log.h"
#include "../backends/block.h"
#include "devices.h"
#include "throttle.h"

#define POOL (2 * VIRTQ_MAX_SIZE)	/* in-flight requests; twice a queue to survive a reset */

struct blk_inflight {
	struct blk_io io;
	struct blk_dev *dev;
	uint16_t head;
	uint32_t gen;
	uint32_t written;		/* used length on success: data read + status */
	uint8_t *status;
	struct blk_inflight *next_free;
	struct iovec iov[BLK_SEG_MAX];
};

struct blk_dev {
	struct virtio_mmio t;
	struct blk_backend be;
	bool be_open;
	uint64_t capacity;		/* sectors */
	bool readonly;
	char id[BLK_ID_BYTES];
	uint32_t gen;			/* bumped at reset: completions of older requests are dropped */
	struct blk_inflight *pool, *free;
	unsigned inflight;
	struct virtq_chain chain;
	struct blk_request req;
	struct throttle thr;		/* bw= and iops=: a request over the limit waits in the ring */
	bool thr_init;
};

static uint8_t *last_byte(const struct virtq_chain *c)
{
	for (unsigned i = c->nin; i-- > 0;)
		if (c->in[i].iov_len)
			return (uint8_t *)c->in[i].iov_base + c->in[i].iov_len - 1;
	return NULL;
}

static bool in_range(uint64_t sector, uint64_t bytes, uint64_t capacity)
{
	uint64_t n = bytes / BLK_SECTOR;
	return sector <= capacity && n <= capacity - sector;
}

int blk_parse(const struct virtq_chain *c, uint64_t capacity, bool readonly, struct blk_request *r)
{
	struct virtio_blk_outhdr hdr;
	int n;

	memset(r, 0, offsetof(struct blk_request, data));
	r->status = last_byte(c);
	if (!r->status)
		return -EINVAL;		/* nowhere to put the answer */
	r->early_status = VIRTIO_BLK_S_IOERR;
	if (c->out_len < sizeof(hdr))
		return 0;
	iov_to_buf(c->out, c->nout, 0, &hdr, sizeof(hdr));
	r->type = hdr.type;
	r->sector = hdr.sector;
	uint64_t out_data = c->out_len - sizeof(hdr);
	uint64_t in_data = c->in_len - 1;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_GET_ID:
		/* The device writes the data: handing it device-readable buffers for it is a
		 * layout violation, not an I/O error. */
		if (out_data)
			return -EINVAL;
		if (r->type == VIRTIO_BLK_T_GET_ID) {
			n = iov_slice(c->in, c->nin, 0, in_data < BLK_ID_BYTES ? in_data : BLK_ID_BYTES,
				      r->data, BLK_SEG_MAX);
			if (n < 0)
				return 0;
			r->ndata = (unsigned)n;
			r->data_len = in_data < BLK_ID_BYTES ? in_data : BLK_ID_BYTES;
			r->early_status = VIRTIO_BLK_S_OK;
			return 0;
		}
		if (in_data % BLK_SECTOR || !in_range(r->sector, in_data, capacity))
			return 0;
		n = iov_slice(c->in, c->nin, 0, in_data, r->data, BLK_SEG_MAX);
		if (n < 0)
			return 0;
		r->ndata = (unsigned)n;
		r->data_len = in_data;
		break;
	case VIRTIO_BLK_T_OUT:
		if (in_data)
			return -EINVAL;	/* the status byte is the only writable part */
		if (readonly || out_data % BLK_SECTOR || !in_range(r->sector, out_data, capacity))
			return 0;
		n = iov_slice(c->out, c->nout, sizeof(hdr), out_data, r->data, BLK_SEG_MAX);
		if (n < 0)
			return 0;
		r->ndata = (unsigned)n;
		r->data_len = out_data;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (in_data)
			return -EINVAL;
		break;
	case VIRTIO_BLK_T_DISCARD: {
		struct virtio_blk_discard_write_zeroes seg;
		if (in_data)
			return -EINVAL;
		if (readonly || out_data != sizeof(seg))	/* max_discard_seg is 1 */
			return 0;
		iov_to_buf(c->out, c->nout, sizeof(hdr), &seg, sizeof(seg));
		if (seg.flags) {
			r->early_status = VIRTIO_BLK_S_UNSUPP;
			return 0;
		}
		if (seg.num_sectors > BLK_MAX_DISCARD_SECTORS ||
		    !in_range(seg.sector, (uint64_t)seg.num_sectors * BLK_SECTOR, capacity))
			return 0;
		r->discard_off = seg.sector * BLK_SECTOR;
		r->discard_len = (uint64_t)seg.num_sectors * BLK_SECTOR;
		break;
	}
	default:
		r->early_status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
	r->early_status = VIRTIO_BLK_S_OK;
	return 0;
}

static void io_done(void *ctx, struct blk_io *io)
{
	struct blk_inflight *f = (struct blk_inflight *)io;
	struct blk_dev *d = ctx;
	bool ok = io->result >= 0;

	if ((io->op == BLK_READ || io->op == BLK_WRITE) && (uint64_t)io->result != f->io.len)
		ok = false;	/* short transfer: the image shrank under us */
	if (f->gen == d->gen) {
		*f->status = ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		virtq_push(&d->t.vq[0], f->head, ok ? f->written : 1);
	}
	f->next_free = d->free;
	d->free = f;
	d->inflight--;
}

/* Pop, validate and start requests until the ring is empty or the pool is. */
static void blk_process(struct blk_dev *d)
{
	struct virtio_mmio *t = &d->t;
	struct blk_request *r = &d->req;
	bool pushed = false, started = false;

	while (d->free && !throttle_waiting(&d->thr) && virtio_mmio_pop(t, 0, &d->chain) > 0) {
		if (blk_parse(&d->chain, d->capacity, d->readonly, r) < 0) {
			virtio_guest_warn("virtio-blk: request breaks the virtio-blk layout: device needs reset");
			virtio_mmio_set_needs_reset(t);
			break;
		}
		/* Every request is an operation; reads and writes also cost their bytes. */
		uint64_t bytes = r->early_status == VIRTIO_BLK_S_OK && (r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT)
					 ? r->data_len : 0;
		if (!throttle_admit(&d->thr, bytes)) {
			virtq_unpop(&t->vq[0], 1);	/* it stays first in the ring until the timer fires */
			break;
		}
		if (r->early_status != VIRTIO_BLK_S_OK || r->type == VIRTIO_BLK_T_GET_ID) {
			uint32_t written = 1;
			if (r->early_status == VIRTIO_BLK_S_OK) {
				char id[BLK_ID_BYTES];
				memcpy(id, d->id, sizeof(id));
				iov_from_buf(r->data, r->ndata, 0, id, r->data_len);
				written += (uint32_t)r->data_len;
			}
			*r->status = r->early_status;
			virtq_push(&t->vq[0], d->chain.head, written);
			pushed = true;
			continue;
		}
		struct blk_inflight *f = d->free;
		d->free = f->next_free;
		d->inflight++;
		f->head = d->chain.head;
		f->gen = d->gen;
		f->status = r->status;
		f->written = 1;
		memset(&f->io, 0, sizeof(f->io));
		switch (r->type) {
		case VIRTIO_BLK_T_IN:
		case VIRTIO_BLK_T_OUT:
			f->io.op = r->type == VIRTIO_BLK_T_IN ? BLK_READ : BLK_WRITE;
			f->io.off = r->sector * BLK_SECTOR;
			f->io.len = r->data_len;
			memcpy(f->iov, r->data, r->ndata * sizeof(struct iovec));
			f->io.iov = f->iov;
			f->io.iovcnt = (int)r->ndata;
			if (r->type == VIRTIO_BLK_T_IN)
				f->written += (uint32_t)r->data_len;
			break;
		case VIRTIO_BLK_T_FLUSH:
			f->io.op = BLK_FLUSH;
			break;
		case VIRTIO_BLK_T_DISCARD:
			f->io.op = BLK_DISCARD;
			f->io.off = r->discard_off;
			f->io.len = r->discard_len;
			break;
		}
		blk_backend_submit(&d->be, &f->io);
		started = true;
	}
	if (started)
		blk_backend_kick(&d->be);
	if (pushed)
		virtio_mmio_signal(t, 0);
}

static void blk_notify(struct virtio_mmio *t, unsigned q)
{
	(void)q;
	blk_process(t->dev);
}

static void blk_completion_event(void *opaque, uint32_t events)
{
	struct blk_dev *d = opaque;
	struct virtio_mmio *t = &d->t;

	(void)events;
	pthread_mutex_lock(&t->lock);
	uint16_t before = t->vq[0].used_idx;
	blk_backend_complete(&d->be);
	if (t->vq[0].used_idx != before)
		virtio_mmio_signal(t, 0);
	/* Requests may have waited for a free slot. */
	if (virtio_mmio_live(t) && t->vq[0].ready)
		blk_process(d);
	pthread_mutex_unlock(&t->lock);
}

/* The reset is not done (STATUS does not read 0) before every request is finished: a read
 * still running would write into pages the driver takes back once it sees the reset, and its
 * completion would write the status byte there. Older requests complete into nothing (gen). */
static void blk_reset(struct virtio_mmio *t)
{
	struct blk_dev *d = t->dev;
	d->gen++;
	blk_backend_drain(&d->be);
}

/* Pausing: requests already started finish and are completed to the guest, so nothing writes
 * guest memory while the VM is paused. The I/O thread is parked, so none starts meanwhile. */
static void blk_pause(struct virtio_mmio *t)
{
	struct blk_dev *d = t->dev;

	pthread_mutex_lock(&t->lock);
	uint16_t before = t->vq[0].used_idx;
	for (unsigned waited = 0; d->be_open && d->be.inflight;) {
		if (blk_backend_wait(&d->be, 1000) == 0 && ++waited % 10 == 0)
			cap_warn("disk: pausing: %u requests still running after %u s", d->be.inflight, waited);
		blk_backend_complete(&d->be);
	}
	if (t->vq[0].used_idx != before)
		virtio_mmio_signal(t, 0);
	pthread_mutex_unlock(&t->lock);
}

/* Paused, no request is in flight (blk_pause finished them): what remains is the disk the guest
 * saw, which the restored VM reopens by path and must find the same size and mode. */
static int blk_save(struct virtio_mmio *t, struct vmstate_out *out)
{
	struct blk_dev *d = t->dev;
	if (d->inflight)
		return -EBUSY;
	vmstate_put_u64(out, "blk.capacity", d->capacity);
	return vmstate_put_bool(out, "blk.readonly", d->readonly);
}

static int blk_restore(struct virtio_mmio *t, const struct vmstate_in *in)
{
	struct blk_dev *d = t->dev;
	uint64_t capacity;
	bool ro;
	int r;
	if ((r = vmstate_get_u64(in, "blk.capacity", &capacity)) < 0 || (r = vmstate_get_bool(in, "blk.readonly", &ro)) < 0)
		return r;
	if (capacity != d->capacity) {
		cap_warn("virtio-blk: the disk has %llu sectors, the snapshot's guest saw %llu",
			 (unsigned long long)d->capacity, (unsigned long long)capacity);
		return -EINVAL;
	}
	return ro == d->readonly ? 0 : -EINVAL;
}

/* The rate limiter's timer fired (I/O thread): start what now passes. */
static void blk_resume(void *opaque)
{
	struct blk_dev *d = opaque;
	struct virtio_mmio *t = &d->t;

	pthread_mutex_lock(&t->lock);
	throttle_fired(&d->thr);
	if (virtio_mmio_live(t) && t->vq[0].ready && !t->vq[0].broken)
		blk_process(d);
	pthread_mutex_unlock(&t->lock);
}

static int blk_attach(struct virtio_mmio *t, struct evloop *io)
{
	struct blk_dev *d = t->dev;
	int r = evloop_add(io, d->be.efd, EPOLLIN, blk_completion_event, d);
	return r < 0 ? r : throttle_attach(&d->thr, io);
}

static void blk_destroy(struct virtio_mmio *t)
{
	struct blk_dev *d = t->dev;

	if (d->be_open) {
		d->gen++;
		blk_backend_drain(&d->be);
		blk_backend_close(&d->be);
	}
	if (d->thr_init) {
		if (rl_enabled(&d->thr.rl))
			cap_debug("virtio-blk %.20s: rate limiter: %llu requests waited, %llu resumes by its timer", d->id,
				  (unsigned long long)d->thr.rl.throttled, (unsigned long long)d->thr.resumes);
		throttle_destroy(&d->thr);
	}
	virtio_mmio_destroy(t);
	free(d->pool);
	free(d);
}

static const struct virtio_dev_ops blk_ops = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_DISCARD),
	.nqueues = 1,
	.notify = blk_notify,
	.reset = blk_reset,
	.pause = blk_pause,
	.save = blk_save,
	.restore = blk_restore,
	.attach = blk_attach,
	.destroy = blk_destroy,
};

static struct virtio_mmio *blk_create(const struct guest_mem *mem, const struct vm_disk_config *disk,
				      enum blk_mode mode, cap_err *err)
{
	struct blk_dev *d = calloc(1, sizeof(*d));

	if (!d || !(d->pool = calloc(POOL, sizeof(*d->pool)))) {
		free(d);
		cap_errf(err, ENOMEM, "virtio-blk");
		return NULL;
	}
	virtio_mmio_init(&d->t, &blk_ops, d, mem);
	d->thr.tfd = -1;
	if (throttle_init(&d->thr, &disk->rl, blk_resume, d, err) < 0) {
		blk_destroy(&d->t);
		return NULL;
	}
	d->thr_init = true;
	if (disk->readonly) /* read-only: no discard either */
		d->t.host_features = (d->t.host_features & ~(1ULL << VIRTIO_BLK_F_DISCARD)) | (1ULL << VIRTIO_BLK_F_RO);
	for (unsigned i = 0; i < POOL; i++) {
		d->pool[i].dev = d;
		d->pool[i].next_free = d->free;
		d->free = &d->pool[i];
	}
	if (blk_backend_open(&d->be, disk->path, disk->readonly, mode, io_done, d, err) < 0) {
		blk_destroy(&d->t);
		return NULL;
	}
	d->be_open = true;
	d->readonly = disk->readonly;
	d->capacity = d->be.size / BLK_SECTOR;
	/* The ID defaults to the image's base name, as Firecracker and QEMU users expect a stable one. */
	const char *id = disk->id;
	if (!id) {
		id = strrchr(disk->path, '/');
		id = id ? id + 1 : disk->path;
	}
	size_t idlen = strlen(id);
	memcpy(d->id, id, idlen < sizeof(d->id) ? idlen : sizeof(d->id));

	struct virtio_blk_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.capacity = d->capacity;
	cfg.seg_max = BLK_SEG_MAX;
	cfg.max_discard_sectors = BLK_MAX_DISCARD_SECTORS;
	cfg.max_discard_seg = 1;
	cfg.discard_sector_alignment = 8;
	cfg.num_queues = 1;
	d->t.config_len = (uint32_t)offsetof(struct virtio_blk_config, max_write_zeroes_sectors);
	memcpy(d->t.config, &cfg, d->t.config_len);
	return &d->t;
}

struct virtio_mmio *virtio_blk_create(const struct guest_mem *mem, const struct vm_disk_config *disk, cap_err *err)
{
	return blk_create(mem, disk, BLK_MODE_AUTO, err);
}

struct virtio_mmio *virtio_blk_create_mode(const struct guest_mem *mem, const struct vm_disk_config *disk,
					   int mode, cap_err *err)
{
	return blk_create(mem, disk, (enum blk_mode)mode, err);
}

bool virtio_blk_uses_uring(struct virtio_mmio *t)
{
	return ((struct blk_dev *)t->dev)->be.uring;
}

int virtio_blk_wait(struct virtio_mmio *t, int timeout_ms)
{
	struct blk_dev *d = t->dev;
	int r = blk_backend_wait(&d->be, timeout_ms);
	if (r > 0)
		blk_completion_event(d, EPOLLIN);
	return r;
}

int virtio_blk_set_rate_limit(struct virtio_mmio *t, const struct rl_config *c, cap_err *err)
{
	struct blk_dev *d = t->dev;
	pthread_mutex_lock(&t->lock);
	int r = throttle_set(&d->thr, c, err);
	pthread_mutex_unlock(&t->lock);
	return r;
}

unsigned virtio_blk_inflight(struct virtio_mmio *t)
{
	struct blk_dev *d = t->dev;
	pthread_mutex_lock(&t->lock);
	unsigned n = d->inflight;
	pthread_mutex_unlock(&t->lock);
	return n;
}
