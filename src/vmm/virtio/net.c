/* virtio-net (virtio 1.2, 5.1) on a TAP device. The TAP speaks the same 12-byte virtio-net
 * header as the driver (IFF_VNET_HDR), so frames with checksum/TSO offload pass through
 * without touching the payload: TX is one writev() of the chain, RX one read() into a bounce
 * buffer then copied into (with MRG_RXBUF possibly several) receive chains. */
#include "net.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../backends/tap.h"
#include "devices.h"
#include "throttle.h"

enum { Q_RX, Q_TX };
#define MAX_RX_CHAINS VIRTQ_MAX_SIZE

struct net_dev {
	struct virtio_mmio t;
	int tap;
	bool mrg;				/* VIRTIO_NET_F_MRG_RXBUF negotiated */
	size_t pending;				/* bytes of a received frame not yet delivered */
	bool pending_admitted;			/* the RX limiter has passed the pending frame */
	struct throttle rx_thr, tx_thr;		/* rx-bw=, tx-bw=, ...: frames over the limit wait */
	bool thr_init;
	uint8_t frame[NET_HDR_LEN + NET_MAX_FRAME];
	struct virtq_chain chain, first;
	uint16_t heads[MAX_RX_CHAINS];
	uint32_t lens[MAX_RX_CHAINS];
};

int net_tx_check(const struct virtq_chain *c)
{
	if (c->out_len < NET_HDR_LEN || c->out_len > NET_HDR_LEN + NET_MAX_FRAME)
		return -EINVAL;
	return (int)(c->out_len - NET_HDR_LEN);
}

static void net_tx(struct net_dev *d)
{
	struct virtio_mmio *t = &d->t;
	bool pushed = false;

	while (!throttle_waiting(&d->tx_thr) && virtio_mmio_pop(t, Q_TX, &d->chain) > 0) {
		int len = net_tx_check(&d->chain);
		if (!throttle_admit(&d->tx_thr, len > 0 ? (uint64_t)len : 0)) {
			virtq_unpop(&t->vq[Q_TX], 1);	/* sent when the limiter's timer fires */
			break;
		}
		/* A frame that cannot be one is dropped, and a full TAP queue drops like a full NIC
		 * ring would: nothing to retry either way. */
		if (len >= 0 && writev(d->tap, d->chain.out, (int)d->chain.nout) < 0)
			cap_debug("virtio-net: TX frame dropped: %s", strerror(errno));
		virtq_push(&t->vq[Q_TX], d->chain.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal(t, Q_TX);
}

/* Copy the pending frame into receive chains. False when the driver has too few buffers:
 * the chains taken are given back and the frame stays pending. */
static bool deliver(struct net_dev *d)
{
	struct virtio_mmio *t = &d->t;
	struct virtq *q = &t->vq[Q_RX];
	size_t off = 0;
	unsigned n = 0;

	while (off < d->pending || n == 0) {
		struct virtq_chain *c = n == 0 ? &d->first : &d->chain;
		int r = virtio_mmio_pop(t, Q_RX, c);
		if (r <= 0 || n >= MAX_RX_CHAINS) {
			if (r > 0)
				n++;
			if (r >= 0)
				virtq_unpop(q, (uint16_t)n);
			if (r >= 0 && (n >= MAX_RX_CHAINS || n >= q->num)) {
				/* Even every buffer the ring can hold is too little: drop the frame
				 * rather than wait for room that cannot come. */
				cap_debug("virtio-net: RX frame of %zu bytes dropped: too few buffers", d->pending);
				d->pending = 0;
			}
			return false;
		}
		size_t k = iov_from_buf(c->in, c->nin, 0, d->frame + off, d->pending - off);
		if (n == 0 && k < NET_HDR_LEN) {
			k = 0; /* not even room for the header: the driver broke 5.1.6.3 */
		}
		d->heads[n] = c->head;
		d->lens[n] = (uint32_t)k;
		n++;
		off += k;
		if (!d->mrg || k == 0)
			break;
	}
	/* off < pending: truncated, the guest sees a short frame and drops it. */
	uint16_t nbuf = (uint16_t)n;
	iov_from_buf(d->first.in, d->first.nin, offsetof(struct virtio_net_hdr_v1, num_buffers), &nbuf, 2);
	for (unsigned i = 0; i < n; i++)
		virtq_push(q, d->heads[i], d->lens[i]);
	return true;
}

static void net_rx(struct net_dev *d)
{
	struct virtio_mmio *t = &d->t;
	bool delivered = false;

	if (!virtio_mmio_live(t) || !t->vq[Q_RX].ready)
		return;
	for (;;) {
		if (!d->pending) {
			ssize_t n = read(d->tap, d->frame, sizeof(d->frame));
			if (n <= 0)
				break;	/* EAGAIN: the edge-triggered watch fires on the next frame */
			if ((size_t)n < NET_HDR_LEN)
				continue;
			d->pending = (size_t)n;
			d->pending_admitted = false;
		}
		/* Over the RX limit, the frame waits here (and the rest in the TAP's queue) until the
		 * limiter's timer fires. */
		if (!d->pending_admitted) {
			if (!throttle_admit(&d->rx_thr, d->pending - NET_HDR_LEN))
				break;
			d->pending_admitted = true;
		}
		if (!deliver(d)) {
			if (d->pending)
				break;	/* wait for the driver's next RX kick */
			continue;	/* dropped: on to the next frame */
		}
		d->pending = 0;
		delivered = true;
	}
	if (delivered)
		virtio_mmio_signal(t, Q_RX);
}

static void net_notify(struct virtio_mmio *t, unsigned q)
{
	struct net_dev *d = t->dev;
	if (q == Q_TX)
		net_tx(d);
	else
		net_rx(d);
}

static void tap_event(void *opaque, uint32_t events)
{
	struct net_dev *d = opaque;
	(void)events;
	pthread_mutex_lock(&d->t.lock);
	net_rx(d);
	pthread_mutex_unlock(&d->t.lock);
}

/* A limiter's timer fired (I/O thread): go on with the queue it stopped. */
static void net_resume_rx(void *opaque)
{
	struct net_dev *d = opaque;
	pthread_mutex_lock(&d->t.lock);
	throttle_fired(&d->rx_thr);
	net_rx(d);
	pthread_mutex_unlock(&d->t.lock);
}

static void net_resume_tx(void *opaque)
{
	struct net_dev *d = opaque;
	struct virtio_mmio *t = &d->t;
	pthread_mutex_lock(&t->lock);
	throttle_fired(&d->tx_thr);
	if (virtio_mmio_live(t) && t->vq[Q_TX].ready && !t->vq[Q_TX].broken)
		net_tx(d);
	pthread_mutex_unlock(&t->lock);
}

static void net_activate(struct virtio_mmio *t)
{
	struct net_dev *d = t->dev;
	uint64_t f = t->driver_features;
	unsigned off = 0;

	d->mrg = f & (1ULL << VIRTIO_NET_F_MRG_RXBUF);
	if (f & (1ULL << VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_ECN))
			off |= TUN_F_TSO_ECN;
	}
	int r = tap_set_offload(d->tap, off);
	if (r < 0)
		cap_warn("virtio-net: TUNSETOFFLOAD %#x: %s", off, strerror(-r));
}

static void net_reset(struct virtio_mmio *t)
{
	struct net_dev *d = t->dev;
	d->pending = 0;
	d->pending_admitted = false;
	d->mrg = false;
	tap_set_offload(d->tap, 0);
}

/* A frame half delivered when the snapshot is taken is dropped, as a NIC drops one; the rest
 * is the transport's (the MAC is in the config space) and the TAP, reopened by name. */
static int net_save(struct virtio_mmio *t, struct vmstate_out *out)
{
	(void)t;
	(void)out;
	return 0;
}

static int net_restore(struct virtio_mmio *t, const struct vmstate_in *in)
{
	struct net_dev *d = t->dev;
	(void)in;
	d->pending = 0;
	if (t->status & VIRTIO_CONFIG_S_DRIVER_OK)
		net_activate(t); /* MRG_RXBUF and the TAP's offloads as the driver negotiated them */
	return 0;
}

static int net_attach(struct virtio_mmio *t, struct evloop *io)
{
	struct net_dev *d = t->dev;
	int r = evloop_add(io, d->tap, EPOLLIN | EPOLLET, tap_event, d);
	if (r >= 0)
		r = throttle_attach(&d->rx_thr, io);
	return r < 0 ? r : throttle_attach(&d->tx_thr, io);
}

static void net_destroy(struct virtio_mmio *t)
{
	struct net_dev *d = t->dev;
	if (d->tap >= 0)
		close(d->tap);
	if (d->thr_init) {
		if (rl_enabled(&d->rx_thr.rl) || rl_enabled(&d->tx_thr.rl))
			cap_debug("virtio-net: rate limiters: rx %llu frames waited, %llu timer resumes; tx %llu frames "
				  "waited, %llu timer resumes",
				  (unsigned long long)d->rx_thr.rl.throttled, (unsigned long long)d->rx_thr.resumes,
				  (unsigned long long)d->tx_thr.rl.throttled, (unsigned long long)d->tx_thr.resumes);
		throttle_destroy(&d->rx_thr);
		throttle_destroy(&d->tx_thr);
	}
	virtio_mmio_destroy(t);
	free(d);
}

static const struct virtio_dev_ops net_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.features = (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) | (1ULL << VIRTIO_NET_F_MAC) |
		    (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) |
		    (1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_HOST_TSO4) |
		    (1ULL << VIRTIO_NET_F_HOST_TSO6) | (1ULL << VIRTIO_NET_F_HOST_ECN) |
		    (1ULL << VIRTIO_NET_F_MRG_RXBUF),
	.nqueues = 2,
	.notify = net_notify,
	.reset = net_reset,
	.activate = net_activate,
	.save = net_save,
	.restore = net_restore,
	.attach = net_attach,
	.destroy = net_destroy,
};

struct virtio_mmio *virtio_net_create(const struct guest_mem *mem, const struct vm_net_config *net, cap_err *err)
{
	struct net_dev *d = calloc(1, sizeof(*d));

	if (!d) {
		cap_errf(err, ENOMEM, "virtio-net");
		return NULL;
	}
	virtio_mmio_init(&d->t, &net_ops, d, mem);
	d->tap = -1;
	d->rx_thr.tfd = d->tx_thr.tfd = -1;
	if (throttle_init(&d->rx_thr, &net->rx, net_resume_rx, d, err) < 0 ||
	    throttle_init(&d->tx_thr, &net->tx, net_resume_tx, d, err) < 0) {
		d->thr_init = true;
		net_destroy(&d->t);
		return NULL;
	}
	d->thr_init = true;
	d->tap = tap_open(net->tap, NET_HDR_LEN, err);
	if (d->tap < 0) {
		d->tap = -1;
		net_destroy(&d->t);
		return NULL;
	}
	struct virtio_net_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	if (net->has_mac) {
		memcpy(cfg.mac, net->mac, 6);
	} else {
		/* A random locally administered unicast address, as the driver would pick. */
		if (getrandom(cfg.mac, 6, 0) != 6)
			memcpy(cfg.mac, "\x02\x43\x41\x50\x00\x01", 6);
		cfg.mac[0] = (uint8_t)((cfg.mac[0] & 0xfe) | 0x02);
	}
	cfg.max_virtqueue_pairs = 1;
	d->t.config_len = (uint32_t)offsetof(struct virtio_net_config, mtu);
	memcpy(d->t.config, &cfg, d->t.config_len);
	return &d->t;
}

int virtio_net_set_rate_limits(struct virtio_mmio *t, const struct rl_config *rx, const struct rl_config *tx,
			       cap_err *err)
{
	struct net_dev *d = t->dev;
	pthread_mutex_lock(&t->lock);
	int r = throttle_set(&d->rx_thr, rx, err);
	if (r == 0)
		r = throttle_set(&d->tx_thr, tx, err);
	pthread_mutex_unlock(&t->lock);
	return r;
}

void virtio_net_poll(struct virtio_mmio *t)
{
	tap_event(t->dev, EPOLLIN);
}
