/* virtio-vsock (virtio 1.2, 5.10): the device itself, its three queues and config space. The
 * host side, the Unix-socket bridge, is the multiplexer in vsock_muxer.c: a TX packet the guest
 * queues is checked here and handed to it; RX buffers are filled from it while it has something
 * pending. Everything runs on the I/O thread under the transport lock (t->lock). */
#include "vsock.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/log.h"
#include "devices.h"
#include "vsock_muxer.h"

enum { Q_RX, Q_TX, Q_EVENT };
#define HDR sizeof(struct virtio_vsock_hdr)

struct vsock_dev {
	struct virtio_mmio t;
	uint64_t cid;
	struct vsock_muxer *mux;
	struct virtq_chain chain;
	struct iovec slice[VIRTQ_MAX_SEGS];
	bool reset_pending;	/* restored: tell the driver its connections are gone (event queue) */
};

int vsock_tx_parse(const struct virtq_chain *c, uint64_t guest_cid, struct virtio_vsock_hdr *h)
{
	if (c->out_len < HDR)
		return -EINVAL;
	iov_to_buf(c->out, c->nout, 0, h, HDR);
	if (h->len > VSOCK_MAX_PKT || h->len != c->out_len - HDR)
		return -EINVAL;
	if (h->src_cid != guest_cid || h->dst_cid != VSOCK_HOST_CID)
		return -EINVAL;
	return (int)h->len;
}

/* Fill RX buffers from the multiplexer (control packets first, then socket data). */
static void vsock_rx(struct vsock_dev *d)
{
	struct virtio_mmio *t = &d->t;
	struct virtq *q = &t->vq[Q_RX];
	bool pushed = false;

	if (!virtio_mmio_live(t) || !q->ready)
		return;
	while (vsock_muxer_pending(d->mux)) {
		if (virtio_mmio_pop(t, Q_RX, &d->chain) <= 0)
			break;
		int n = vsock_muxer_recv(d->mux, d->chain.in, d->chain.nin, d->chain.in_len);
		if (n < 0) {
			virtq_unpop(q, 1);
			continue;
		}
		virtq_push(q, d->chain.head, (uint32_t)n);
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal(t, Q_RX);
}

static void vsock_tx(struct vsock_dev *d)
{
	struct virtio_mmio *t = &d->t;
	struct virtio_vsock_hdr h;
	bool pushed = false;

	while (virtio_mmio_pop(t, Q_TX, &d->chain) > 0) {
		if (vsock_tx_parse(&d->chain, d->cid, &h) >= 0) {
			/* Within VIRTQ_MAX_SEGS: the slice has at most as many segments as the chain. */
			int n = iov_slice(d->chain.out, d->chain.nout, HDR, h.len, d->slice, VIRTQ_MAX_SEGS);
			vsock_muxer_send(d->mux, &h, d->slice, (unsigned)n);
		} else {
			cap_debug("virtio-vsock: dropping a malformed packet");
		}
		virtq_push(&t->vq[Q_TX], d->chain.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal(t, Q_TX);
	vsock_rx(d);
}

/* VIRTIO_VSOCK_EVENT_TRANSPORT_RESET into the driver's first event buffer, once one is there. */
static void vsock_event(struct vsock_dev *d)
{
	struct virtio_mmio *t = &d->t;
	if (!d->reset_pending || virtio_mmio_pop(t, Q_EVENT, &d->chain) <= 0)
		return;
	struct virtio_vsock_event ev = { .id = VIRTIO_VSOCK_EVENT_TRANSPORT_RESET };
	size_t n = iov_from_buf(d->chain.in, d->chain.nin, 0, &ev, sizeof(ev));
	virtq_push(&t->vq[Q_EVENT], d->chain.head, (uint32_t)n);
	virtio_mmio_signal(t, Q_EVENT);
	d->reset_pending = false;
}

static void vsock_notify(struct virtio_mmio *t, unsigned q)
{
	struct vsock_dev *d = t->dev;
	if (q == Q_TX)
		vsock_tx(d);
	else if (q == Q_RX)
		vsock_rx(d);
	else
		vsock_event(d); /* the event queue is only ever used for TRANSPORT_RESET */
}

/* The host ends of the guest's connections do not survive the process: a restored device starts
 * with none and tells the driver so (TRANSPORT_RESET, as Firecracker does), and the guest drops
 * its stale sockets. Nothing else is the device's own: the CID is in the config space. */
static int vsock_save(struct virtio_mmio *t, struct vmstate_out *out)
{
	(void)t;
	(void)out;
	return 0;
}

static int vsock_restore(struct virtio_mmio *t, const struct vmstate_in *in)
{
	struct vsock_dev *d = t->dev;
	uint64_t cid;
	(void)in;
	memcpy(&cid, t->config, sizeof(cid));
	if (cid != d->cid)
		return -EINVAL;
	vsock_muxer_reset(d->mux);
	d->reset_pending = virtio_mmio_live(t);
	vsock_event(d); /* or when the queues are kicked on resume */
	return 0;
}

static void vsock_reset(struct virtio_mmio *t)
{
	struct vsock_dev *d = t->dev;
	d->reset_pending = false;
	vsock_muxer_reset(d->mux);
}

static int vsock_attach(struct virtio_mmio *t, struct evloop *io)
{
	struct vsock_dev *d = t->dev;
	return vsock_muxer_attach(d->mux, io);
}

static void vsock_destroy(struct virtio_mmio *t)
{
	struct vsock_dev *d = t->dev;
	vsock_muxer_close(d->mux);
	virtio_mmio_destroy(t);
	free(d);
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.nqueues = 3,
	.notify = vsock_notify,
	.reset = vsock_reset,
	.save = vsock_save,
	.restore = vsock_restore,
	.attach = vsock_attach,
	.destroy = vsock_destroy,
};

/* The multiplexer's view of the device. */
static bool host_live(void *opaque)
{
	struct vsock_dev *d = opaque;
	return virtio_mmio_live(&d->t);
}

static void host_rx_ready(void *opaque)
{
	vsock_rx(opaque);
}

struct virtio_mmio *virtio_vsock_create(const struct guest_mem *mem, uint64_t guest_cid, const char *uds,
					cap_err *err)
{
	struct vsock_dev *d = calloc(1, sizeof(*d));

	if (!d) {
		cap_errf(err, ENOMEM, "virtio-vsock");
		return NULL;
	}
	virtio_mmio_init(&d->t, &vsock_ops, d, mem);
	d->cid = guest_cid;
	struct vsock_muxer_host host = { .lock = &d->t.lock, .live = host_live, .rx_ready = host_rx_ready, .opaque = d };
	if (vsock_muxer_open(&d->mux, guest_cid, uds, &host, err) < 0) {
		vsock_destroy(&d->t);
		return NULL;
	}
	uint64_t cid = guest_cid;
	d->t.config_len = sizeof(cid);
	memcpy(d->t.config, &cid, sizeof(cid));
	return &d->t;
}

void virtio_vsock_poll(struct virtio_mmio *t)
{
	struct vsock_dev *d = t->dev;
	pthread_mutex_lock(&t->lock);
	vsock_muxer_poll(d->mux);
	vsock_rx(d);
	pthread_mutex_unlock(&t->lock);
}

void virtio_vsock_accept(struct virtio_mmio *t)
{
	struct vsock_dev *d = t->dev;
	vsock_muxer_accept(d->mux);
}

unsigned virtio_vsock_nconns(struct virtio_mmio *t)
{
	struct vsock_dev *d = t->dev;
	return vsock_muxer_nconns(d->mux);
}
