/* Talks to the host through virtio-vsock (--vsock cid=N,uds=PATH). By default connects to host port
 * vsock.port=P (default 5000), which the VMM bridges to the Unix socket PATH_P; reads one line from
 * the host, sends "hello from guest\n", shuts down and waits for the host's side to close.
 * With vsock.listen=P it waits instead for a host process to connect to PATH and write
 * "CONNECT P\n": accepts, sends "hello from the guest listener\n", reads one line, shuts down. */
#include "virtio.h"

#define Q_RX 0
#define Q_TX 1
#define Q_EVENT 2
#define NRX 4
#define RXBUF 1024
#define HOST_CID 2
#define LOCAL_PORT 49152
#define BUF_ALLOC 65536

#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RST 3
#define OP_SHUTDOWN 4
#define OP_RW 5
#define OP_CREDIT_UPDATE 6
#define OP_CREDIT_REQUEST 7
#define TYPE_STREAM 1

struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

static uint8_t rx[NRX][RXBUF];
static uint8_t event[8];
static struct hdr tx_hdr;
static char tx_data[64];
static char line[256];
static unsigned line_len;
static uint64_t cid;
static uint32_t local_port, peer_port, fwd_cnt;	/* peer_port 0: not known yet (listening) */

static void add_rx(struct vio_dev *d, unsigned slot)
{
	struct vio_buf b = { rx[slot], RXBUF, 1 };

	vio_add(d, Q_RX, slot, &b, 1);
}

static int send(struct vio_dev *d, uint16_t op, uint32_t flags, const char *data, uint32_t len)
{
	struct vio_buf b[2] = { { &tx_hdr, sizeof(tx_hdr), 0 }, { tx_data, len, 0 } };

	tx_hdr = (struct hdr){ cid, HOST_CID, local_port, peer_port, len, TYPE_STREAM, op, flags, BUF_ALLOC,
			       fwd_cnt };
	if (len)
		memcpy(tx_data, data, len);
	vio_add(d, Q_TX, 0, b, len ? 2 : 1);
	vio_notify_q(d, Q_TX);
	if (!vio_wait(d, Q_TX, 0)) {
		rt_printf("vsock: tx of op %u timed out\n", op);
		return -1;
	}
	vio_take(d, Q_TX, NULL, NULL);
	return 0;
}

/* Waits for the next packet for our connection; returns its op (its payload appended to line),
 * or -1 on timeout. */
static int receive(struct vio_dev *d)
{
	for (;;) {
		uint32_t head, len;
		struct hdr h;

		if (!vio_wait(d, Q_RX, 0))
			return -1;
		vio_take(d, Q_RX, &head, &len);
		if (head >= NRX || len < sizeof(h)) {
			rt_printf("vsock: bad rx entry (head %u, %u bytes)\n", head, len);
			return -1;
		}
		memcpy(&h, rx[head], sizeof(h));
		if (h.op == OP_RW) {
			uint32_t i, n = h.len < len - sizeof(h) ? h.len : len - (uint32_t)sizeof(h);

			for (i = 0; i < n && line_len + 1 < sizeof(line); i++)
				line[line_len++] = (char)rx[head][sizeof(h) + i];
			fwd_cnt += h.len;
		}
		add_rx(d, head);
		vio_notify_q(d, Q_RX);
		if (h.dst_port != local_port || (peer_port && h.src_port != peer_port)) {
			rt_printf("vsock: ignoring op %u for port %u from %u\n", h.op, h.dst_port, h.src_port);
			continue;
		}
		if (!peer_port)
			peer_port = h.src_port;
		if (h.op == OP_CREDIT_REQUEST) {
			if (send(d, OP_CREDIT_UPDATE, 0, NULL, 0) < 0)
				return -1;
			continue;
		}
		return h.op;
	}
}

/* Reads until a whole line has arrived; prints it. */
static int read_line(struct vio_dev *d)
{
	int op;

	while (!(line_len && line[line_len - 1] == '\n')) {
		op = receive(d);
		if (op != OP_RW && op != OP_CREDIT_UPDATE) {
			rt_printf("vsock: got op %d before the host's line\n", op);
			return -1;
		}
	}
	line[line_len - 1] = 0;
	rt_printf("vsock: received: [%s]\n", line);
	return 0;
}

static int close_and_wait(struct vio_dev *d)
{
	int op;

	if (send(d, OP_SHUTDOWN, 3, NULL, 0) < 0)
		return -1;
	rt_puts("vsock: sent, shut down\n");
	do
		op = receive(d);
	while (op == OP_CREDIT_UPDATE || op == OP_RW);
	rt_printf("vsock: host side closed (op %d)\n", op);
	return op == OP_RST || op == OP_SHUTDOWN ? 0 : -1;
}

static int connect_to_host(struct vio_dev *d)
{
	static const char msg[] = "hello from guest\n";
	int op;

	local_port = LOCAL_PORT;
	peer_port = (uint32_t)rt_cmdline_num("vsock.port", 5000);
	rt_printf("vsock: guest cid %lu, connecting to host port %u\n", cid, peer_port);
	if (send(d, OP_REQUEST, 0, NULL, 0) < 0)
		return -1;
	op = receive(d);
	if (op != OP_RESPONSE) {
		rt_printf("vsock: connection %s (op %d)\n", op == OP_RST ? "refused" : "failed", op);
		return -1;
	}
	rt_puts("vsock: connected\n");
	if (read_line(d) < 0 || send(d, OP_RW, 0, msg, sizeof(msg) - 1) < 0)
		return -1;
	return close_and_wait(d);
}

static int accept_from_host(struct vio_dev *d, uint32_t port)
{
	static const char msg[] = "hello from the guest listener\n";
	int op;

	local_port = port;
	peer_port = 0;
	rt_printf("vsock: guest cid %lu, listening on port %u\n", cid, port);
	op = receive(d);
	if (op != OP_REQUEST) {
		rt_printf("vsock: expected a connection request, got op %d\n", op);
		return -1;
	}
	if (send(d, OP_RESPONSE, 0, NULL, 0) < 0)
		return -1;
	rt_printf("vsock: accepted host port %u\n", peer_port);
	if (send(d, OP_RW, 0, msg, sizeof(msg) - 1) < 0 || read_line(d) < 0)
		return -1;
	return close_and_wait(d);
}

int guest_main(void)
{
	struct vio_dev d;
	struct vio_buf ev = { event, sizeof(event), 1 };
	uint32_t listen = (uint32_t)rt_cmdline_num("vsock.listen", 0);
	unsigned i;

	if (vio_find(VIO_ID_VSOCK, 0, &d) < 0) {
		rt_puts("vsock: no virtio-vsock device on the command line\n");
		return RT_EXIT_FAIL;
	}
	if (vio_init_queues(&d, 0, 3) < 0)
		return RT_EXIT_FAIL;
	cid = vio_config64(&d, 0);
	for (i = 0; i < NRX; i++)
		add_rx(&d, i);
	vio_notify_q(&d, Q_RX);
	vio_add(&d, Q_EVENT, 0, &ev, 1);
	vio_notify_q(&d, Q_EVENT);
	if ((listen ? accept_from_host(&d, listen) : connect_to_host(&d)) < 0)
		return RT_EXIT_FAIL;
	return 0;
}
