/* virtio-vsock (virtio 1.2, 5.10) bridged to Unix sockets the way Firecracker does it:
 *  - a guest connection to port P is connected to the Unix socket "<uds>_P";
 *  - a host process connects to "<uds>", writes "CONNECT <P>\n" and, once the guest accepted,
 *    reads "OK <hostport>\n"; from then on the socket is the stream.
 * Flow control is the credit scheme of 5.10.6.3: we advertise VSOCK_CONN_BUF per connection and
 * buffer at most that much of guest data the host socket could not take yet; towards the guest
 * we never send beyond the credit it advertised. Everything runs on the I/O thread; sockets are
 * watched edge-triggered, so a socket the guest has no room for does not spin the loop. */
#include "vsock.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../lib/efd.h"
#include "../../lib/log.h"
#include "devices.h"

enum { Q_RX, Q_TX, Q_EVENT };
#define HDR sizeof(struct virtio_vsock_hdr)
#define CTL_MAX 1024

enum conn_state {
	C_HOST_LINE,		/* host side connected, reading "CONNECT <port>\n" */
	C_HOST_REQUESTED,	/* REQUEST sent to the guest, waiting for RESPONSE/RST */
	C_ESTABLISHED,
};

struct conn {
	struct vsock_dev *d;
	struct conn *next;
	int fd;
	enum conn_state state;
	uint32_t local_port;	/* host-side port */
	uint32_t peer_port;	/* guest-side port */
	bool readable, watched;
	bool dead;		/* dropped by a device reset; freed on the I/O thread */
	bool host_eof;		/* the host socket reached EOF; SHUTDOWN sent */
	bool close_after_flush;	/* guest shut down both ways: RST once buffered data is out */
	bool guest_no_send;	/* guest said SHUTDOWN_SEND: the host gets EOF once buf drained */
	bool shut_wr;		/* ... and it has: shutdown(fd, SHUT_WR) done */
	char line[40];
	unsigned line_len;
	/* guest -> host */
	uint8_t *buf;
	uint32_t start, end;
	uint32_t fwd_cnt, fwd_sent;
	/* host -> guest */
	uint32_t rx_cnt;
	uint32_t peer_buf_alloc, peer_fwd_cnt;
};

struct vsock_dev {
	struct virtio_mmio t;
	uint64_t cid;
	char *uds;
	int listen_fd;
	dev_t uds_dev;		/* the socket file we bound, so destroy unlinks only that one */
	ino_t uds_ino;
	struct evloop *io;
	int reap_fd;		/* eventfd: dead connections wait for the I/O thread to free them */
	struct conn *conns, *dead;
	unsigned nconns;
	uint32_t next_port;
	struct virtio_vsock_hdr ctl[CTL_MAX];	/* control packets waiting for an RX buffer */
	unsigned ctl_head, ctl_n;
	struct virtq_chain chain;
	struct iovec slice[VIRTQ_MAX_SEGS];
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

/* ---- control packets towards the guest ---- */

static void fill_hdr(struct vsock_dev *d, struct virtio_vsock_hdr *h, const struct conn *c, uint16_t op,
		     uint32_t local_port, uint32_t peer_port)
{
	memset(h, 0, HDR);
	h->src_cid = VSOCK_HOST_CID;
	h->dst_cid = d->cid;
	h->src_port = local_port;
	h->dst_port = peer_port;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = VSOCK_CONN_BUF;
	h->fwd_cnt = c ? c->fwd_cnt : 0;
}

static void queue_ctl(struct vsock_dev *d, const struct conn *c, uint16_t op, uint32_t flags, uint32_t local_port,
		      uint32_t peer_port)
{
	if (d->ctl_n == CTL_MAX) {
		virtio_guest_warn("virtio-vsock: control queue full, dropping a packet");
		return;
	}
	struct virtio_vsock_hdr *h = &d->ctl[(d->ctl_head + d->ctl_n) % CTL_MAX];
	fill_hdr(d, h, c, op, local_port, peer_port);
	h->flags = flags;
	d->ctl_n++;
	if (c && (op == VIRTIO_VSOCK_OP_CREDIT_UPDATE || op == VIRTIO_VSOCK_OP_RESPONSE))
		((struct conn *)c)->fwd_sent = c->fwd_cnt;
}

static void queue_rst(struct vsock_dev *d, uint32_t local_port, uint32_t peer_port)
{
	queue_ctl(d, NULL, VIRTIO_VSOCK_OP_RST, 0, local_port, peer_port);
}

/* ---- connections ---- */

static void conn_event(void *opaque, uint32_t events);
static void vsock_rx(struct vsock_dev *d);

static struct conn *find(struct vsock_dev *d, uint32_t local_port, uint32_t peer_port)
{
	for (struct conn *c = d->conns; c; c = c->next)
		if (c->state != C_HOST_LINE && c->local_port == local_port && c->peer_port == peer_port)
			return c;
	return NULL;
}

static bool half_open(const struct conn *c)
{
	return c->state != C_ESTABLISHED || c->host_eof;
}

static void conn_free(struct vsock_dev *d, struct conn *c);

/* Keep the connections waiting on the guest under VSOCK_MAX_HALF_OPEN by resetting the oldest
 * (the list is newest first). */
static void evict_half_open(struct vsock_dev *d)
{
	struct conn *oldest = NULL;
	unsigned n = 0;

	for (struct conn *c = d->conns; c; c = c->next) {
		if (half_open(c)) {
			n++;
			oldest = c;
		}
	}
	if (n < VSOCK_MAX_HALF_OPEN)
		return;
	virtio_guest_warn("virtio-vsock: %u connections wait for the guest: resetting the oldest", n);
	if (oldest->state != C_HOST_LINE)	/* the guest knows of it */
		queue_rst(d, oldest->local_port, oldest->peer_port);
	conn_free(d, oldest);
}

static struct conn *conn_new(struct vsock_dev *d, int fd, enum conn_state st)
{
	evict_half_open(d);
	if (d->nconns >= VSOCK_MAX_CONNS)
		return NULL;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->d = d;
	c->fd = fd;
	c->state = st;
	if (d->io) {
		if (evloop_add(d->io, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, conn_event, c) < 0) {
			free(c);
			return NULL;
		}
		c->watched = true;
	}
	c->next = d->conns;
	d->conns = c;
	d->nconns++;
	return c;
}

/* Unwatch, close and free a connection already off d->conns. */
static void conn_release(struct vsock_dev *d, struct conn *c)
{
	if (c->watched && d->io)
		evloop_del(d->io, c->fd);
	close(c->fd);
	free(c->buf);
	free(c);
}

static void conn_free(struct vsock_dev *d, struct conn *c)
{
	for (struct conn **p = &d->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	d->nconns--;
	conn_release(d, c);
}

/* A device reset arrives on a vCPU thread while the I/O thread may be about to run a
 * connection's handler, so the connections are only marked dead and shut down here; the I/O
 * thread unregisters and frees them (reap_event). Without an I/O loop (tests) they go at once. */
static void close_all(struct vsock_dev *d)
{
	if (!d->io) {
		while (d->conns)
			conn_free(d, d->conns);
	} else if (d->conns) {
		while (d->conns) {
			struct conn *c = d->conns;
			d->conns = c->next;
			d->nconns--;
			c->dead = true;
			shutdown(c->fd, SHUT_RDWR);
			c->next = d->dead;
			d->dead = c;
		}
		efd_signal(d->reap_fd);
	}
	d->ctl_n = 0;
}

static void free_dead(struct vsock_dev *d)
{
	while (d->dead) {
		struct conn *c = d->dead;
		d->dead = c->next;
		conn_release(d, c);
	}
}

static void reap_event(void *opaque, uint32_t events)
{
	struct vsock_dev *d = opaque;

	(void)events;
	efd_drain(d->reap_fd);
	pthread_mutex_lock(&d->t.lock);
	free_dead(d);
	pthread_mutex_unlock(&d->t.lock);
}

/* Tell the guest about freed buffer space: every quarter buffer, and when a backlog drained
 * (the guest may be waiting for exactly that). Data packets to the guest carry it anyway. */
static void maybe_credit_update(struct vsock_dev *d, struct conn *c, bool drained)
{
	uint32_t adv = c->fwd_cnt - c->fwd_sent;
	if (adv && (adv >= VSOCK_CONN_BUF / 4 || drained))
		queue_ctl(d, c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, c->local_port, c->peer_port);
}

/* Write buffered guest data to the host socket. Returns false if the connection was closed. */
static bool conn_flush(struct vsock_dev *d, struct conn *c)
{
	bool had = c->start < c->end;

	while (c->start < c->end) {
		ssize_t n = send(c->fd, c->buf + c->start, c->end - c->start, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			queue_rst(d, c->local_port, c->peer_port);
			conn_free(d, c);
			return false;
		}
		c->start += (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (c->start == c->end)
		c->start = c->end = 0;
	maybe_credit_update(d, c, had && c->start == c->end);
	if (c->start == c->end && c->guest_no_send && !c->shut_wr) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = true;
	}
	if (c->start == c->end && c->close_after_flush) {
		queue_rst(d, c->local_port, c->peer_port);
		conn_free(d, c);
		return false;
	}
	return true;
}

/* Payload from the guest: straight to the socket if nothing is queued, the rest buffered. */
static void conn_write(struct vsock_dev *d, struct conn *c, const struct iovec *iov, unsigned n, uint32_t len)
{
	uint32_t done = 0;

	if (c->start == c->end && len) {
		struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };
		ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			queue_rst(d, c->local_port, c->peer_port);
			conn_free(d, c);
			return;
		}
		if (w > 0) {
			done = (uint32_t)w;
			c->fwd_cnt += done;
		}
	}
	if (done < len) {
		uint32_t rest = len - done;
		if (c->end - c->start + rest > VSOCK_CONN_BUF) {
			/* The guest sent beyond the credit we gave it. */
			cap_debug("virtio-vsock: port %u: credit exceeded, resetting", c->peer_port);
			queue_rst(d, c->local_port, c->peer_port);
			conn_free(d, c);
			return;
		}
		if (!c->buf && !(c->buf = malloc(VSOCK_CONN_BUF))) {
			queue_rst(d, c->local_port, c->peer_port);
			conn_free(d, c);
			return;
		}
		if (c->end + rest > VSOCK_CONN_BUF) {
			memmove(c->buf, c->buf + c->start, c->end - c->start);
			c->end -= c->start;
			c->start = 0;
		}
		c->end += (uint32_t)iov_to_buf(iov, n, done, c->buf + c->end, rest);
	}
	maybe_credit_update(d, c, false);
}

/* Guest connects to host port P: connect to "<uds>_P". */
static void guest_request(struct vsock_dev *d, const struct virtio_vsock_hdr *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1;

	if (find(d, h->dst_port, h->src_port)) {
		queue_rst(d, h->dst_port, h->src_port);
		return;
	}
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", d->uds, h->dst_port) >= sizeof(sa.sun_path))
		goto refuse;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto refuse;
	struct conn *c = conn_new(d, fd, C_ESTABLISHED);
	if (!c)
		goto refuse;
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->readable = true;
	queue_ctl(d, c, VIRTIO_VSOCK_OP_RESPONSE, 0, c->local_port, c->peer_port);
	return;
refuse:
	if (fd >= 0)
		close(fd);
	queue_rst(d, h->dst_port, h->src_port);
}

static void handle_tx(struct vsock_dev *d, const struct virtio_vsock_hdr *h, const struct iovec *payload,
		      unsigned npayload)
{
	if (h->type != VIRTIO_VSOCK_TYPE_STREAM) {
		if (h->op != VIRTIO_VSOCK_OP_RST)
			queue_rst(d, h->dst_port, h->src_port);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_REQUEST) {
		guest_request(d, h);
		return;
	}
	struct conn *c = find(d, h->dst_port, h->src_port);
	if (!c) {
		if (h->op != VIRTIO_VSOCK_OP_RST)
			queue_rst(d, h->dst_port, h->src_port);
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != C_HOST_REQUESTED) {
			queue_rst(d, c->local_port, c->peer_port);
			conn_free(d, c);
			return;
		}
		c->state = C_ESTABLISHED;
		char ok[32];
		int n = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);
		if (send(c->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
			queue_rst(d, c->local_port, c->peer_port);
			conn_free(d, c);
			return;
		}
		c->readable = true;
		break;
	case VIRTIO_VSOCK_OP_RST:
		conn_free(d, c);
		return;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (h->flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
			c->guest_no_send = true;
		if ((h->flags & (VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV)) ==
		    (VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV)) {
			c->close_after_flush = true;
			conn_flush(d, c);
			return;
		}
		/* The host sees EOF after the data still buffered (conn_flush). */
		if (c->guest_no_send && !conn_flush(d, c))
			return;
		break;
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != C_ESTABLISHED || c->guest_no_send) {
			queue_rst(d, c->local_port, c->peer_port);
			conn_free(d, c);
			return;
		}
		conn_write(d, c, payload, npayload, h->len);
		return;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		queue_ctl(d, c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, c->local_port, c->peer_port);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break; /* the credit fields were taken above */
	default:
		queue_rst(d, c->local_port, c->peer_port);
		conn_free(d, c);
		return;
	}
	/* New credit or state may let host data flow. */
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
			handle_tx(d, &h, d->slice, (unsigned)n);
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

static uint32_t peer_credit(const struct conn *c)
{
	uint32_t in_flight = c->rx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* Fill RX buffers: control packets first, then data from readable sockets. */
static void vsock_rx(struct vsock_dev *d)
{
	struct virtio_mmio *t = &d->t;
	struct virtq *q = &t->vq[Q_RX];
	bool pushed = false;

	if (!virtio_mmio_live(t) || !q->ready)
		return;
	for (;;) {
		if (d->ctl_n) {
			if (virtio_mmio_pop(t, Q_RX, &d->chain) <= 0)
				break;
			if (d->chain.in_len < HDR) {
				virtq_push(q, d->chain.head, 0);
				pushed = true;
				continue;
			}
			iov_from_buf(d->chain.in, d->chain.nin, 0, &d->ctl[d->ctl_head], HDR);
			d->ctl_head = (d->ctl_head + 1) % CTL_MAX;
			d->ctl_n--;
			virtq_push(q, d->chain.head, HDR);
			pushed = true;
			continue;
		}
		struct conn *c;
		for (c = d->conns; c; c = c->next)
			if (c->state == C_ESTABLISHED && c->readable && !c->host_eof && peer_credit(c))
				break;
		if (!c)
			break;
		if (virtio_mmio_pop(t, Q_RX, &d->chain) <= 0)
			break;
		if (d->chain.in_len <= HDR) {
			virtq_push(q, d->chain.head, 0);
			pushed = true;
			continue;
		}
		uint64_t room = d->chain.in_len - HDR;
		uint32_t credit = peer_credit(c);
		if (room > credit)
			room = credit;
		if (room > VSOCK_MAX_PKT)
			room = VSOCK_MAX_PKT;
		/* Read straight into the guest's buffer, after the header. */
		int n = iov_slice(d->chain.in, d->chain.nin, HDR, room, d->slice, VIRTQ_MAX_SEGS);
		struct msghdr m = { .msg_iov = d->slice, .msg_iovlen = (size_t)n };
		ssize_t r = recvmsg(c->fd, &m, MSG_DONTWAIT);
		if (r > 0) {
			struct virtio_vsock_hdr h;
			fill_hdr(d, &h, c, VIRTIO_VSOCK_OP_RW, c->local_port, c->peer_port);
			h.len = (uint32_t)r;
			iov_from_buf(d->chain.in, d->chain.nin, 0, &h, HDR);
			c->rx_cnt += (uint32_t)r;
			c->fwd_sent = c->fwd_cnt;
			virtq_push(q, d->chain.head, (uint32_t)(HDR + (size_t)r));
			pushed = true;
			continue;
		}
		virtq_unpop(q, 1);
		if (r == 0) {
			/* EOF from the host: tell the guest nothing more comes; it answers with RST. */
			c->host_eof = true;
			queue_ctl(d, c, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND,
				  c->local_port, c->peer_port);
		} else if (errno == EAGAIN || errno == EINTR) {
			c->readable = false;
		} else {
			queue_rst(d, c->local_port, c->peer_port);
			conn_free(d, c);
		}
	}
	if (pushed)
		virtio_mmio_signal(t, Q_RX);
}

/* A host connection's "CONNECT <port>\n", read a byte at a time so no stream data is eaten. */
static void host_line(struct vsock_dev *d, struct conn *c)
{
	for (;;) {
		char ch;
		ssize_t r = recv(c->fd, &ch, 1, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			conn_free(d, c);
			return;
		}
		if (ch != '\n') {
			if (c->line_len + 1 >= sizeof(c->line)) {
				conn_free(d, c);
				return;
			}
			c->line[c->line_len++] = ch;
			continue;
		}
		c->line[c->line_len] = 0;
		unsigned long port;
		char *end;
		if (strncmp(c->line, "CONNECT ", 8) || !c->line[8] ||
		    ((port = strtoul(c->line + 8, &end, 10)), *end && *end != '\r') || port > UINT32_MAX) {
			conn_free(d, c);
			return;
		}
		/* Host-side ports for host-initiated connections, never two alike. */
		uint32_t lp;
		do {
			lp = d->next_port++;
			if (d->next_port < (1u << 30))
				d->next_port = 1u << 30;
		} while (find(d, lp, (uint32_t)port));
		c->local_port = lp;
		c->peer_port = (uint32_t)port;
		c->state = C_HOST_REQUESTED;
		queue_ctl(d, c, VIRTIO_VSOCK_OP_REQUEST, 0, c->local_port, c->peer_port);
		return;
	}
}

static void conn_event(void *opaque, uint32_t events)
{
	struct conn *c = opaque;
	struct vsock_dev *d = c->d;

	pthread_mutex_lock(&d->t.lock);
	if (c->dead) {
		pthread_mutex_unlock(&d->t.lock);
		return;
	}
	if (c->state == C_HOST_LINE) {
		host_line(d, c);
	} else {
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
			c->readable = true;
		if (events & EPOLLOUT)
			conn_flush(d, c);	/* may free c */
	}
	vsock_rx(d);
	pthread_mutex_unlock(&d->t.lock);
}

static void accept_all(struct vsock_dev *d)
{
	for (;;) {
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!virtio_mmio_live(&d->t) || !conn_new(d, fd, C_HOST_LINE)) {
			close(fd);
			continue;
		}
		host_line(d, d->conns);
	}
}

static void listen_event(void *opaque, uint32_t events)
{
	struct vsock_dev *d = opaque;
	(void)events;
	pthread_mutex_lock(&d->t.lock);
	accept_all(d);
	vsock_rx(d);
	pthread_mutex_unlock(&d->t.lock);
}

static void vsock_notify(struct virtio_mmio *t, unsigned q)
{
	struct vsock_dev *d = t->dev;
	if (q == Q_TX)
		vsock_tx(d);
	else if (q == Q_RX)
		vsock_rx(d);
	/* The event queue only holds buffers for TRANSPORT_RESET, which we never send. */
}

static void vsock_reset(struct virtio_mmio *t)
{
	close_all(t->dev);
}

static int vsock_attach(struct virtio_mmio *t, struct evloop *io)
{
	struct vsock_dev *d = t->dev;
	int r;

	d->reap_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->reap_fd < 0)
		return -errno;
	if ((r = evloop_add(io, d->reap_fd, EPOLLIN, reap_event, d)) < 0)
		return r;
	d->io = io;
	return evloop_add(io, d->listen_fd, EPOLLIN, listen_event, d);
}

static void vsock_destroy(struct virtio_mmio *t)
{
	struct vsock_dev *d = t->dev;
	d->io = NULL; /* the loop is gone: nothing to unregister */
	for (struct conn *c = d->conns; c; c = c->next)
		c->watched = false;
	close_all(d);
	free_dead(d);
	if (d->reap_fd >= 0)
		close(d->reap_fd);
	if (d->listen_fd >= 0) {
		/* Another VM may have replaced a socket someone unlinked: not ours to remove. */
		struct stat st;
		if (d->uds_ino && lstat(d->uds, &st) == 0 && st.st_dev == d->uds_dev && st.st_ino == d->uds_ino)
			unlink(d->uds);
		close(d->listen_fd);
	}
	virtio_mmio_destroy(t);
	free(d->uds);
	free(d);
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.nqueues = 3,
	.notify = vsock_notify,
	.reset = vsock_reset,
	.attach = vsock_attach,
	.destroy = vsock_destroy,
};

/* A socket file at the path is removed only when nobody listens on it any more (a crashed
 * run's leftover: connect() is refused). One a running VM listens on is left alone; any other
 * kind of file makes bind() fail. */
static int claim_stale_socket(const struct sockaddr_un *sa, cap_err *err)
{
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cap_errf(err, errno, "vsock socket %s", sa->sun_path);
	int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN) {	/* accepted, or a live listener's backlog is full */
		bool first = err && !err->set;
		cap_errf(err, 0, "vsock socket %s: in use by another process", sa->sun_path);
		if (first)
			err->errnum = EADDRINUSE;
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED)
		return cap_errf(err, e, "vsock socket %s", sa->sun_path);
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return cap_errf(err, errno, "vsock socket %s: removing a stale socket", sa->sun_path);
	return 0;
}

struct virtio_mmio *virtio_vsock_create(const struct guest_mem *mem, uint64_t guest_cid, const char *uds,
					cap_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vsock_dev *d = calloc(1, sizeof(*d));
	struct stat st;

	if (!d || !(d->uds = strdup(uds))) {
		free(d);
		cap_errf(err, ENOMEM, "virtio-vsock");
		return NULL;
	}
	virtio_mmio_init(&d->t, &vsock_ops, d, mem);
	d->cid = guest_cid;
	d->next_port = 1u << 30;
	d->listen_fd = -1;
	d->reap_fd = -1;
	/* Room for "<uds>_<port>" too. */
	if (strlen(uds) + 12 > sizeof(sa.sun_path)) {
		cap_errf(err, ENAMETOOLONG, "vsock socket %s", uds);
		goto fail;
	}
	strcpy(sa.sun_path, uds);
	if (claim_stale_socket(&sa, err) < 0)
		goto fail;
	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0 || bind(d->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		cap_errf(err, errno, "vsock socket %s", uds);
		if (d->listen_fd >= 0)
			close(d->listen_fd);
		d->listen_fd = -1;
		goto fail;
	}
	if (lstat(uds, &st) == 0) {
		d->uds_dev = st.st_dev;
		d->uds_ino = st.st_ino;
	}
	if (listen(d->listen_fd, 64) < 0) {
		cap_errf(err, errno, "vsock socket %s", uds);
		goto fail;
	}
	uint64_t cid = guest_cid;
	d->t.config_len = sizeof(cid);
	memcpy(d->t.config, &cid, sizeof(cid));
	return &d->t;
fail:
	vsock_destroy(&d->t);
	return NULL;
}

void virtio_vsock_poll(struct virtio_mmio *t)
{
	struct vsock_dev *d = t->dev;
	pthread_mutex_lock(&t->lock);
	for (struct conn *c = d->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == C_HOST_LINE) {
			host_line(d, c);
			continue;
		}
		c->readable = true;
		conn_flush(d, c);
	}
	vsock_rx(d);
	pthread_mutex_unlock(&t->lock);
}

void virtio_vsock_accept(struct virtio_mmio *t)
{
	listen_event(t->dev, EPOLLIN);
}

unsigned virtio_vsock_nconns(struct virtio_mmio *t)
{
	struct vsock_dev *d = t->dev;
	return d->nconns;
}
