/* The Unix-socket multiplexer behind virtio-vsock (vsock_muxer.h). Flow control is the credit
 * scheme of virtio 1.2, 5.10.6.3: we advertise VSOCK_CONN_BUF per connection and buffer at most
 * that much of guest data the host socket could not take yet; towards the guest we never send
 * beyond the credit it advertised. Sockets are watched edge-triggered, so a socket the guest has
 * no room for does not spin the I/O loop. */
#include "vsock_muxer.h"

#include <errno.h>
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
#include "queue.h"

#define HDR sizeof(struct virtio_vsock_hdr)
#define CTL_MAX 1024

enum conn_state {
	C_HOST_LINE,		/* host side connected, reading "CONNECT <port>\n" */
	C_HOST_REQUESTED,	/* REQUEST sent to the guest, waiting for RESPONSE/RST */
	C_ESTABLISHED,
};

struct conn {
	struct vsock_muxer *m;
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

struct vsock_muxer {
	struct vsock_muxer_host host;
	uint64_t cid;
	char *uds;
	int listen_fd;
	dev_t uds_dev;		/* the socket file we bound, so close unlinks only that one */
	ino_t uds_ino;
	struct evloop *io;
	int reap_fd;		/* eventfd: dead connections wait for the I/O thread to free them */
	struct conn *conns, *dead;
	unsigned nconns;
	uint32_t next_port;
	struct virtio_vsock_hdr ctl[CTL_MAX];	/* control packets waiting for an RX buffer */
	unsigned ctl_head, ctl_n;
	struct iovec slice[VIRTQ_MAX_SEGS];
};

/* ---- control packets towards the guest ---- */

static void fill_hdr(struct vsock_muxer *m, struct virtio_vsock_hdr *h, const struct conn *c, uint16_t op,
		     uint32_t local_port, uint32_t peer_port)
{
	memset(h, 0, HDR);
	h->src_cid = VSOCK_HOST_CID;
	h->dst_cid = m->cid;
	h->src_port = local_port;
	h->dst_port = peer_port;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = VSOCK_CONN_BUF;
	h->fwd_cnt = c ? c->fwd_cnt : 0;
}

static void queue_ctl(struct vsock_muxer *m, const struct conn *c, uint16_t op, uint32_t flags, uint32_t local_port,
		      uint32_t peer_port)
{
	if (m->ctl_n == CTL_MAX) {
		virtio_guest_warn("virtio-vsock: control queue full, dropping a packet");
		return;
	}
	struct virtio_vsock_hdr *h = &m->ctl[(m->ctl_head + m->ctl_n) % CTL_MAX];
	fill_hdr(m, h, c, op, local_port, peer_port);
	h->flags = flags;
	m->ctl_n++;
	if (c && (op == VIRTIO_VSOCK_OP_CREDIT_UPDATE || op == VIRTIO_VSOCK_OP_RESPONSE))
		((struct conn *)c)->fwd_sent = c->fwd_cnt;
}

static void queue_rst(struct vsock_muxer *m, uint32_t local_port, uint32_t peer_port)
{
	queue_ctl(m, NULL, VIRTIO_VSOCK_OP_RST, 0, local_port, peer_port);
}

/* ---- connections ---- */

static void conn_event(void *opaque, uint32_t events);

static struct conn *find(struct vsock_muxer *m, uint32_t local_port, uint32_t peer_port)
{
	for (struct conn *c = m->conns; c; c = c->next)
		if (c->state != C_HOST_LINE && c->local_port == local_port && c->peer_port == peer_port)
			return c;
	return NULL;
}

static bool half_open(const struct conn *c)
{
	return c->state != C_ESTABLISHED || c->host_eof;
}

static void conn_free(struct vsock_muxer *m, struct conn *c);

/* Keep the connections waiting on the guest under VSOCK_MAX_HALF_OPEN by resetting the oldest
 * (the list is newest first). */
static void evict_half_open(struct vsock_muxer *m)
{
	struct conn *oldest = NULL;
	unsigned n = 0;

	for (struct conn *c = m->conns; c; c = c->next) {
		if (half_open(c)) {
			n++;
			oldest = c;
		}
	}
	if (n < VSOCK_MAX_HALF_OPEN)
		return;
	virtio_guest_warn("virtio-vsock: %u connections wait for the guest: resetting the oldest", n);
	if (oldest->state != C_HOST_LINE)	/* the guest knows of it */
		queue_rst(m, oldest->local_port, oldest->peer_port);
	conn_free(m, oldest);
}

static struct conn *conn_new(struct vsock_muxer *m, int fd, enum conn_state st)
{
	evict_half_open(m);
	if (m->nconns >= VSOCK_MAX_CONNS)
		return NULL;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->m = m;
	c->fd = fd;
	c->state = st;
	if (m->io) {
		if (evloop_add(m->io, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, conn_event, c) < 0) {
			free(c);
			return NULL;
		}
		c->watched = true;
	}
	c->next = m->conns;
	m->conns = c;
	m->nconns++;
	return c;
}

/* Unwatch, close and free a connection already off m->conns. */
static void conn_release(struct vsock_muxer *m, struct conn *c)
{
	if (c->watched && m->io)
		evloop_del(m->io, c->fd);
	close(c->fd);
	free(c->buf);
	free(c);
}

static void conn_free(struct vsock_muxer *m, struct conn *c)
{
	for (struct conn **p = &m->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	m->nconns--;
	conn_release(m, c);
}

/* A device reset arrives on a vCPU thread while the I/O thread may be about to run a
 * connection's handler, so the connections are only marked dead and shut down here; the I/O
 * thread unregisters and frees them (reap_event). Without an I/O loop (tests) they go at once. */
static void close_all(struct vsock_muxer *m)
{
	if (!m->io) {
		while (m->conns)
			conn_free(m, m->conns);
	} else if (m->conns) {
		while (m->conns) {
			struct conn *c = m->conns;
			m->conns = c->next;
			m->nconns--;
			c->dead = true;
			shutdown(c->fd, SHUT_RDWR);
			c->next = m->dead;
			m->dead = c;
		}
		efd_signal(m->reap_fd);
	}
	m->ctl_n = 0;
}

static void free_dead(struct vsock_muxer *m)
{
	while (m->dead) {
		struct conn *c = m->dead;
		m->dead = c->next;
		conn_release(m, c);
	}
}

static void reap_event(void *opaque, uint32_t events)
{
	struct vsock_muxer *m = opaque;

	(void)events;
	efd_drain(m->reap_fd);
	pthread_mutex_lock(m->host.lock);
	free_dead(m);
	pthread_mutex_unlock(m->host.lock);
}

/* Tell the guest about freed buffer space: every quarter buffer, and when a backlog drained
 * (the guest may be waiting for exactly that). Data packets to the guest carry it anyway. */
static void maybe_credit_update(struct vsock_muxer *m, struct conn *c, bool drained)
{
	uint32_t adv = c->fwd_cnt - c->fwd_sent;
	if (adv && (adv >= VSOCK_CONN_BUF / 4 || drained))
		queue_ctl(m, c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, c->local_port, c->peer_port);
}

/* Write buffered guest data to the host socket. Returns false if the connection was closed. */
static bool conn_flush(struct vsock_muxer *m, struct conn *c)
{
	bool had = c->start < c->end;

	while (c->start < c->end) {
		ssize_t n = send(c->fd, c->buf + c->start, c->end - c->start, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			queue_rst(m, c->local_port, c->peer_port);
			conn_free(m, c);
			return false;
		}
		c->start += (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (c->start == c->end)
		c->start = c->end = 0;
	maybe_credit_update(m, c, had && c->start == c->end);
	if (c->start == c->end && c->guest_no_send && !c->shut_wr) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = true;
	}
	if (c->start == c->end && c->close_after_flush) {
		queue_rst(m, c->local_port, c->peer_port);
		conn_free(m, c);
		return false;
	}
	return true;
}

/* Payload from the guest: straight to the socket if nothing is queued, the rest buffered. */
static void conn_write(struct vsock_muxer *m, struct conn *c, const struct iovec *iov, unsigned n, uint32_t len)
{
	uint32_t done = 0;

	if (c->start == c->end && len) {
		struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };
		ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			queue_rst(m, c->local_port, c->peer_port);
			conn_free(m, c);
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
			queue_rst(m, c->local_port, c->peer_port);
			conn_free(m, c);
			return;
		}
		if (!c->buf && !(c->buf = malloc(VSOCK_CONN_BUF))) {
			queue_rst(m, c->local_port, c->peer_port);
			conn_free(m, c);
			return;
		}
		if (c->end + rest > VSOCK_CONN_BUF) {
			memmove(c->buf, c->buf + c->start, c->end - c->start);
			c->end -= c->start;
			c->start = 0;
		}
		c->end += (uint32_t)iov_to_buf(iov, n, done, c->buf + c->end, rest);
	}
	maybe_credit_update(m, c, false);
}

/* Guest connects to host port P: connect to "<uds>_P". */
static void guest_request(struct vsock_muxer *m, const struct virtio_vsock_hdr *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1;

	if (find(m, h->dst_port, h->src_port)) {
		queue_rst(m, h->dst_port, h->src_port);
		return;
	}
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", m->uds, h->dst_port) >= sizeof(sa.sun_path))
		goto refuse;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto refuse;
	struct conn *c = conn_new(m, fd, C_ESTABLISHED);
	if (!c)
		goto refuse;
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->readable = true;
	queue_ctl(m, c, VIRTIO_VSOCK_OP_RESPONSE, 0, c->local_port, c->peer_port);
	return;
refuse:
	if (fd >= 0)
		close(fd);
	queue_rst(m, h->dst_port, h->src_port);
}

static void handle_tx(struct vsock_muxer *m, const struct virtio_vsock_hdr *h, const struct iovec *payload,
		      unsigned npayload)
{
	if (h->type != VIRTIO_VSOCK_TYPE_STREAM) {
		if (h->op != VIRTIO_VSOCK_OP_RST)
			queue_rst(m, h->dst_port, h->src_port);
		return;
	}
	if (h->op == VIRTIO_VSOCK_OP_REQUEST) {
		guest_request(m, h);
		return;
	}
	struct conn *c = find(m, h->dst_port, h->src_port);
	if (!c) {
		if (h->op != VIRTIO_VSOCK_OP_RST)
			queue_rst(m, h->dst_port, h->src_port);
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != C_HOST_REQUESTED) {
			queue_rst(m, c->local_port, c->peer_port);
			conn_free(m, c);
			return;
		}
		c->state = C_ESTABLISHED;
		char ok[32];
		int n = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);
		if (send(c->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
			queue_rst(m, c->local_port, c->peer_port);
			conn_free(m, c);
			return;
		}
		c->readable = true;
		break;
	case VIRTIO_VSOCK_OP_RST:
		conn_free(m, c);
		return;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (h->flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
			c->guest_no_send = true;
		if ((h->flags & (VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV)) ==
		    (VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV)) {
			c->close_after_flush = true;
			conn_flush(m, c);
			return;
		}
		/* The host sees EOF after the data still buffered (conn_flush). */
		if (c->guest_no_send && !conn_flush(m, c))
			return;
		break;
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != C_ESTABLISHED || c->guest_no_send) {
			queue_rst(m, c->local_port, c->peer_port);
			conn_free(m, c);
			return;
		}
		conn_write(m, c, payload, npayload, h->len);
		return;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		queue_ctl(m, c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, c->local_port, c->peer_port);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break; /* the credit fields were taken above */
	default:
		queue_rst(m, c->local_port, c->peer_port);
		conn_free(m, c);
		return;
	}
	/* New credit or state may let host data flow. */
}

static uint32_t peer_credit(const struct conn *c)
{
	uint32_t in_flight = c->rx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* A host connection's "CONNECT <port>\n", read a byte at a time so no stream data is eaten. */
static void host_line(struct vsock_muxer *m, struct conn *c)
{
	for (;;) {
		char ch;
		ssize_t r = recv(c->fd, &ch, 1, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			conn_free(m, c);
			return;
		}
		if (ch != '\n') {
			if (c->line_len + 1 >= sizeof(c->line)) {
				conn_free(m, c);
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
			conn_free(m, c);
			return;
		}
		/* Host-side ports for host-initiated connections, never two alike. */
		uint32_t lp;
		do {
			lp = m->next_port++;
			if (m->next_port < (1u << 30))
				m->next_port = 1u << 30;
		} while (find(m, lp, (uint32_t)port));
		c->local_port = lp;
		c->peer_port = (uint32_t)port;
		c->state = C_HOST_REQUESTED;
		queue_ctl(m, c, VIRTIO_VSOCK_OP_REQUEST, 0, c->local_port, c->peer_port);
		return;
	}
}

static void conn_event(void *opaque, uint32_t events)
{
	struct conn *c = opaque;
	struct vsock_muxer *m = c->m;

	pthread_mutex_lock(m->host.lock);
	if (c->dead) {
		pthread_mutex_unlock(m->host.lock);
		return;
	}
	if (c->state == C_HOST_LINE) {
		host_line(m, c);
	} else {
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
			c->readable = true;
		if (events & EPOLLOUT)
			conn_flush(m, c);	/* may free c */
	}
	m->host.rx_ready(m->host.opaque);
	pthread_mutex_unlock(m->host.lock);
}

static void accept_all(struct vsock_muxer *m)
{
	for (;;) {
		int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!m->host.live(m->host.opaque) || !conn_new(m, fd, C_HOST_LINE)) {
			close(fd);
			continue;
		}
		host_line(m, m->conns);
	}
}

static void listen_event(void *opaque, uint32_t events)
{
	struct vsock_muxer *m = opaque;
	(void)events;
	pthread_mutex_lock(m->host.lock);
	accept_all(m);
	m->host.rx_ready(m->host.opaque);
	pthread_mutex_unlock(m->host.lock);
}

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


/* ---- the device's side ---- */

/* The connection whose data goes to the guest next. */
static struct conn *next_readable(struct vsock_muxer *m)
{
	for (struct conn *c = m->conns; c; c = c->next)
		if (c->state == C_ESTABLISHED && c->readable && !c->host_eof && peer_credit(c))
			return c;
	return NULL;
}

bool vsock_muxer_pending(struct vsock_muxer *m)
{
	return m->ctl_n || next_readable(m);
}

int vsock_muxer_recv(struct vsock_muxer *m, const struct iovec *iov, unsigned n, uint64_t len)
{
	if (m->ctl_n) {
		if (len < HDR)
			return 0;
		iov_from_buf(iov, n, 0, &m->ctl[m->ctl_head], HDR);
		m->ctl_head = (m->ctl_head + 1) % CTL_MAX;
		m->ctl_n--;
		return (int)HDR;
	}
	struct conn *c = next_readable(m);
	if (!c)
		return -EAGAIN;
	if (len <= HDR)
		return 0;
	uint64_t room = len - HDR;
	uint32_t credit = peer_credit(c);
	if (room > credit)
		room = credit;
	if (room > VSOCK_MAX_PKT)
		room = VSOCK_MAX_PKT;
	/* Read straight into the guest's buffer, after the header. */
	int ns = iov_slice(iov, n, HDR, room, m->slice, VIRTQ_MAX_SEGS);
	struct msghdr msg = { .msg_iov = m->slice, .msg_iovlen = (size_t)ns };
	ssize_t r = recvmsg(c->fd, &msg, MSG_DONTWAIT);
	if (r > 0) {
		struct virtio_vsock_hdr h;
		fill_hdr(m, &h, c, VIRTIO_VSOCK_OP_RW, c->local_port, c->peer_port);
		h.len = (uint32_t)r;
		iov_from_buf(iov, n, 0, &h, HDR);
		c->rx_cnt += (uint32_t)r;
		c->fwd_sent = c->fwd_cnt;
		return (int)(HDR + (size_t)r);
	}
	if (r == 0) {
		/* EOF from the host: tell the guest nothing more comes; it answers with RST. */
		c->host_eof = true;
		queue_ctl(m, c, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND,
			  c->local_port, c->peer_port);
	} else if (errno == EAGAIN || errno == EINTR) {
		c->readable = false;
	} else {
		queue_rst(m, c->local_port, c->peer_port);
		conn_free(m, c);
	}
	return -EAGAIN;
}

void vsock_muxer_send(struct vsock_muxer *m, const struct virtio_vsock_hdr *h, const struct iovec *payload,
		      unsigned npayload)
{
	handle_tx(m, h, payload, npayload);
}

void vsock_muxer_reset(struct vsock_muxer *m)
{
	close_all(m);
}

int vsock_muxer_attach(struct vsock_muxer *m, struct evloop *io)
{
	int r;

	m->reap_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->reap_fd < 0)
		return -errno;
	if ((r = evloop_add(io, m->reap_fd, EPOLLIN, reap_event, m)) < 0)
		return r;
	m->io = io;
	return evloop_add(io, m->listen_fd, EPOLLIN, listen_event, m);
}

void vsock_muxer_close(struct vsock_muxer *m)
{
	if (!m)
		return;
	m->io = NULL; /* the loop is gone: nothing to unregister */
	for (struct conn *c = m->conns; c; c = c->next)
		c->watched = false;
	close_all(m);
	free_dead(m);
	if (m->reap_fd >= 0)
		close(m->reap_fd);
	if (m->listen_fd >= 0) {
		/* Another VM may have replaced a socket someone unlinked: not ours to remove. */
		struct stat st;
		if (m->uds_ino && lstat(m->uds, &st) == 0 && st.st_dev == m->uds_dev && st.st_ino == m->uds_ino)
			unlink(m->uds);
		close(m->listen_fd);
	}
	free(m->uds);
	free(m);
}

int vsock_muxer_open(struct vsock_muxer **out, uint64_t guest_cid, const char *uds,
		     const struct vsock_muxer_host *host, cap_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vsock_muxer *m = calloc(1, sizeof(*m));
	struct stat st;

	*out = NULL;
	if (!m || !(m->uds = strdup(uds))) {
		free(m);
		return cap_errf(err, ENOMEM, "virtio-vsock");
	}
	m->host = *host;
	m->cid = guest_cid;
	m->next_port = 1u << 30;
	m->listen_fd = -1;
	m->reap_fd = -1;
	int r;
	/* Room for "<uds>_<port>" too. */
	if (strlen(uds) + 12 > sizeof(sa.sun_path)) {
		r = cap_errf(err, ENAMETOOLONG, "vsock socket %s", uds);
		goto fail;
	}
	strcpy(sa.sun_path, uds);
	if ((r = claim_stale_socket(&sa, err)) < 0)
		goto fail;
	m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->listen_fd < 0 || bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = cap_errf(err, errno, "vsock socket %s", uds);
		if (m->listen_fd >= 0)
			close(m->listen_fd);
		m->listen_fd = -1;
		goto fail;
	}
	if (lstat(uds, &st) == 0) {
		m->uds_dev = st.st_dev;
		m->uds_ino = st.st_ino;
	}
	if (listen(m->listen_fd, 64) < 0) {
		r = cap_errf(err, errno, "vsock socket %s", uds);
		goto fail;
	}
	*out = m;
	return 0;
fail:
	vsock_muxer_close(m);
	return r;
}

void vsock_muxer_poll(struct vsock_muxer *m)
{
	for (struct conn *c = m->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == C_HOST_LINE) {
			host_line(m, c);
			continue;
		}
		c->readable = true;
		conn_flush(m, c);
	}
}

void vsock_muxer_accept(struct vsock_muxer *m)
{
	listen_event(m, EPOLLIN);
}

unsigned vsock_muxer_nconns(const struct vsock_muxer *m)
{
	return m->nconns;
}
