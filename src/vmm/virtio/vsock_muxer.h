/* The host side of virtio-vsock: a multiplexer of Unix-socket connections, the way Firecracker's
 * vsock/unix/muxer bridges them (docs/virtio.md):
 *  - a guest connection to port P is connected to the Unix socket "<uds>_P";
 *  - a host process connects to "<uds>", writes "CONNECT <P>\n" and, once the guest accepted,
 *    reads "OK <hostport>\n"; from then on the socket is the stream.
 * It owns the listening socket, the connection table, per-connection buffers and credit (5.10.6.3),
 * and the control packets waiting for the guest. It knows nothing of queues: the device
 * (vsock.c) hands it each packet the guest sent (vsock_muxer_send) and asks it to fill each
 * receive buffer (vsock_muxer_recv) while it has something pending.
 *
 * Threads and locks: every call is made with the device's lock held (host->lock); the muxer's
 * own I/O-loop handlers (sockets, the listener) take that lock themselves and then call
 * host->rx_ready so the device fills RX buffers. */
#ifndef CAPSULE_VMM_VIRTIO_VSOCK_MUXER_H
#define CAPSULE_VMM_VIRTIO_VSOCK_MUXER_H

#include <linux/virtio_vsock.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../../lib/error.h"
#include "../../lib/evloop.h"

/* Limits of the host side (also what the device advertises). */
#define VSOCK_HOST_CID 2
#define VSOCK_MAX_PKT 65536		/* largest payload we accept or send in one packet */
#define VSOCK_CONN_BUF (256 * 1024)	/* per-connection guest->host buffer: our buf_alloc */
#define VSOCK_MAX_CONNS 1024
/* Connections only the guest can end: a host connection waiting for its CONNECT line or for the
 * guest's RESPONSE, and one whose host side closed (SHUTDOWN sent, waiting for the guest's RST).
 * Past this many the oldest is reset, so a silent guest cannot fill the table. */
#define VSOCK_MAX_HALF_OPEN 128

struct vsock_muxer;

/* What the muxer needs from the device it serves. */
struct vsock_muxer_host {
	pthread_mutex_t *lock;		/* the device lock, taken by the muxer's I/O handlers */
	bool (*live)(void *opaque);	/* is the driver up: host connections are refused otherwise */
	void (*rx_ready)(void *opaque);	/* something may be pending for the guest (lock held) */
	void *opaque;
};

/* Bind and listen on uds (a stale socket file there is replaced, a live one refused). */
int vsock_muxer_open(struct vsock_muxer **out, uint64_t guest_cid, const char *uds,
		     const struct vsock_muxer_host *host, cap_err *err);
/* Watch the sockets on the I/O loop. Without it (unit tests) nothing is watched and the test
 * hooks below drive the sockets. */
int vsock_muxer_attach(struct vsock_muxer *m, struct evloop *io);
/* Close every connection and the listener (its socket file removed if it is still ours). Call
 * once the I/O loop has stopped. NULL is fine. */
void vsock_muxer_close(struct vsock_muxer *m);

/* A packet the guest sent, header already checked (vsock_tx_parse), payload its data. */
void vsock_muxer_send(struct vsock_muxer *m, const struct virtio_vsock_hdr *h, const struct iovec *payload,
		      unsigned npayload);
/* Is a packet waiting for a guest receive buffer. */
bool vsock_muxer_pending(struct vsock_muxer *m);
/* Fill one receive buffer of len bytes (iov, n segments): returns the bytes written (header
 * and payload); 0 when the buffer is too small and was used up without data; -EAGAIN when
 * nothing could be delivered after all (the buffer is then the caller's to give back). */
int vsock_muxer_recv(struct vsock_muxer *m, const struct iovec *iov, unsigned n, uint64_t len);
/* The driver reset the device: every connection goes (freed on the I/O thread). */
void vsock_muxer_reset(struct vsock_muxer *m);

/* Test hooks. poll: treat every connection socket as readable and writable, as if epoll said
 * so (lock held). accept: take pending host connections from the listener (takes the lock). */
void vsock_muxer_poll(struct vsock_muxer *m);
void vsock_muxer_accept(struct vsock_muxer *m);
unsigned vsock_muxer_nconns(const struct vsock_muxer *m);

#endif
