/* virtio-vsock from the guest side, polled: first connects to host port 5000 (the host's
 * "<uds>_5000" echo server), sends a line and expects it back, shuts down; then waits for the
 * host to connect to guest port 6000 ("CONNECT 6000"), accepts, and echoes what arrives until the
 * host closes. Prints each step; the test checks them and the host side. */
#include "virtio_mq.h"

#define VIO_ID_VSOCK 19
#define RXQ 0
#define TXQ 1
#define NRX 8
#define BUF 4096
#define HOST_CID 2
#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RST 3
#define OP_SHUTDOWN 4
#define OP_RW 5
#define OP_CREDIT_UPDATE 6
#define WAIT (1ULL << 31)

struct hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

static struct vmq_dev d;
static uint64_t cid;
static uint8_t rxbuf[NRX][BUF] __attribute__((aligned(64)));
static uint8_t txbuf[BUF] __attribute__((aligned(64)));
static uint32_t fwd_cnt;
static uint8_t payload[BUF];
static uint32_t payload_len;

static void post_rx(unsigned i)
{
	struct vio_buf b = { rxbuf[i], BUF, 1 };
	vmq_add(&d, RXQ, i, &b, 1);
}

static int send(uint16_t op, uint32_t sport, uint32_t dport, const void *data, uint32_t len, uint32_t flags)
{
	struct hdr *h = (struct hdr *)txbuf;
	uint32_t id, l;

	*h = (struct hdr){ .src_cid = cid, .dst_cid = HOST_CID, .src_port = sport, .dst_port = dport,
			   .len = len, .type = 1, .op = op, .flags = flags, .buf_alloc = 65536,
			   .fwd_cnt = fwd_cnt };
	memcpy(txbuf + sizeof(*h), data, len);
	struct vio_buf b = { txbuf, (uint32_t)sizeof(*h) + len, 0 };
	vmq_add(&d, TXQ, 0, &b, 1);
	vmq_kick(&d, TXQ);
	return vmq_wait(&d, TXQ, &id, &l, WAIT) ? 0 : -1;
}

/* Next packet, skipping credit updates; its payload lands in payload[]. */
static int recv(struct hdr *out)
{
	uint32_t id, len;

	for (;;) {
		if (!vmq_wait(&d, RXQ, &id, &len, WAIT) || id >= NRX || len < sizeof(struct hdr))
			return -1;
		memcpy(out, rxbuf[id], sizeof(*out));
		payload_len = out->len < BUF - sizeof(*out) ? out->len : 0;
		memcpy(payload, rxbuf[id] + sizeof(*out), payload_len);
		post_rx(id);
		vmq_kick(&d, RXQ);
		if (out->op == OP_RW)
			fwd_cnt += out->len;
		if (out->op != OP_CREDIT_UPDATE)
			return 0;
	}
}

static void print_payload(const char *what)
{
	rt_printf("vsock: %s [", what);
	for (uint32_t i = 0; i < payload_len && payload[i] != '\n'; i++)
		rt_putc((char)payload[i]);
	rt_puts("]\n");
}

int guest_main(void)
{
	struct vio_dev found;
	struct hdr h;
	static const char ping[] = "ping from the guest\n";

	if (vio_find(VIO_ID_VSOCK, 0, &found) < 0 || vmq_init(&d, &found, 0, 2) < 0) {
		rt_puts("vsock: no usable virtio-vsock device\n");
		return RT_EXIT_FAIL;
	}
	cid = vmq_config32(&d, 0);
	rt_printf("vsock: guest cid %lu\n", cid);
	for (unsigned i = 0; i < NRX; i++)
		post_rx(i);
	vmq_kick(&d, RXQ);

	/* Guest -> host. */
	if (send(OP_REQUEST, 1024, 5000, 0, 0, 0) < 0 || recv(&h) < 0)
		return RT_EXIT_FAIL;
	rt_printf("vsock: connect to host port 5000: op %u\n", h.op);
	if (h.op != OP_RESPONSE)
		return RT_EXIT_FAIL;
	send(OP_RW, 1024, 5000, ping, sizeof(ping) - 1, 0);
	if (recv(&h) < 0 || h.op != OP_RW)
		return RT_EXIT_FAIL;
	print_payload("guest got back");
	send(OP_SHUTDOWN, 1024, 5000, 0, 0, 3);
	if (recv(&h) < 0)
		return RT_EXIT_FAIL;
	rt_printf("vsock: after shutdown: op %u\n", h.op);

	/* Host -> guest. */
	rt_puts("vsock: waiting for host\n");
	if (recv(&h) < 0 || h.op != OP_REQUEST) {
		rt_puts("vsock: no connection from the host\n");
		return RT_EXIT_FAIL;
	}
	uint32_t hport = h.src_port;
	rt_printf("vsock: host connects to port %u\n", h.dst_port);
	send(OP_RESPONSE, h.dst_port, hport, 0, 0, 0);
	unsigned echoed = 0;
	for (;;) {
		if (recv(&h) < 0)
			return RT_EXIT_FAIL;
		if (h.op == OP_RW) {
			print_payload("guest got");
			send(OP_RW, 6000, hport, payload, payload_len, 0);
			echoed += payload_len;
			continue;
		}
		if (h.op == OP_SHUTDOWN)
			send(OP_RST, 6000, hport, 0, 0, 0);
		break;
	}
	rt_printf("vsock: echoed %u bytes, host closed (op %u)\n", echoed, h.op);
	return 0;
}
