/* virtio-vsock against a fake guest memory and real Unix sockets: guest->host connections to
 * "<uds>_P", host->guest connections through "CONNECT <port>\n" / "OK <hostport>\n", data both
 * ways, refusals, shutdown/RST, credit violations and malformed packets. */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"
#include "test_virtio_fake.h"
#include "../../src/lib/log.h"
#include "../../src/vmm/virtio/devices.h"
#include "../../src/vmm/virtio/vsock.h"

#define CID 3
#define NQ 16
#define RXBUF 4096

struct fq {
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next;
};

static uint8_t *ram;
static struct guest_mem gm;
static struct fq rxq = { 0x1000, 0x2000, 0x3000, 0, 0, 0 }, txq = { 0x4000, 0x5000, 0x6000, 0, 0, 0 };
static char dir[64], uds[128];
static struct virtio_mmio *t;

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, true);
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, false);
	return v;
}

static void q_setup(unsigned qi, struct fq *q)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, qi);
	wr(VIRTIO_MMIO_QUEUE_NUM, NQ);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q->avail);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q->used);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void q_add(struct fq *q, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t i = q->next;
	q->next = (uint16_t)((q->next + 1) % NQ);
	((struct vring_desc *)(ram + q->desc))[i] = (struct vring_desc){ addr, len, flags, 0 };
	struct vring_avail *a = (struct vring_avail *)(ram + q->avail);
	a->ring[q->avail_idx % NQ] = i;
	q->avail_idx++;
	a->idx = q->avail_idx;
}

static struct vring_used *used(struct fq *q)
{
	return (struct vring_used *)(ram + q->used);
}

/* RX buffers live at 0x10000 + slot * RXBUF, slot = descriptor index. */
static void post_rx(int n)
{
	for (int i = 0; i < n; i++)
		q_add(&rxq, 0x10000 + (uint64_t)rxq.next * RXBUF, RXBUF, VRING_DESC_F_WRITE);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* Next packet the device put on the RX queue, or NULL. Copies the header, payload to data. */
static struct virtio_vsock_hdr *next_rx(uint8_t **data)
{
	static struct virtio_vsock_hdr h;
	if (used(&rxq)->idx == rxq.used_seen)
		return NULL;
	struct vring_used_elem e = used(&rxq)->ring[rxq.used_seen % NQ];
	rxq.used_seen++;
	uint8_t *p = ram + 0x10000 + (uint64_t)e.id * RXBUF;
	memcpy(&h, p, sizeof(h));
	if (data)
		*data = p + sizeof(h);
	post_rx(1);
	return &h;
}

static void send_pkt(uint16_t op, uint32_t src_port, uint32_t dst_port, const void *payload, uint32_t len,
		     uint32_t flags)
{
	static uint64_t slot;
	uint64_t at = 0x60000 + (slot++ % NQ) * 0x11000;
	struct virtio_vsock_hdr h = { .src_cid = CID, .dst_cid = VSOCK_HOST_CID, .src_port = src_port,
				      .dst_port = dst_port, .len = len, .type = VIRTIO_VSOCK_TYPE_STREAM,
				      .op = op, .flags = flags, .buf_alloc = 65536, .fwd_cnt = 0 };
	memcpy(ram + at, &h, sizeof(h));
	if (len)
		memcpy(ram + at + sizeof(h), payload, len);
	q_add(&txq, at, (uint32_t)sizeof(h) + len, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
}

static int unix_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
		return -1;
	return fd;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

static void make(void)
{
	cap_err err = { 0 };
	memset(ram, 0, FAKE_MEM * 2);
	guest_mem_init_buffer(&gm, ram, FAKE_MEM * 2);
	memset(&rxq, 0, sizeof(rxq));
	memset(&txq, 0, sizeof(txq));
	rxq = (struct fq){ 0x1000, 0x2000, 0x3000, 0, 0, 0 };
	txq = (struct fq){ 0x4000, 0x5000, 0x6000, 0, 0, 0 };
	t = virtio_vsock_create(&gm, CID, uds, &err);
	if (!t) {
		printf("# %s\n", err.msg);
		return;
	}
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	q_setup(0, &rxq);
	q_setup(1, &txq);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	post_rx(8);
}

static void test_config(void)
{
	make();
	CHECK(t != NULL);
	uint64_t cid = 0;
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG, (uint8_t *)&cid, 8, false);
	CHECK_EQ(cid, (uint64_t)CID);
	CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 19u);
	virtio_device_free(t);
	CHECK(access(uds, F_OK) != 0); /* the listening socket is removed with the device */
}

static void test_guest_connects(void)
{
	char path[160];
	snprintf(path, sizeof(path), "%s_5000", uds);
	int lfd = unix_listen(path);
	CHECK(lfd >= 0);
	make();
	send_pkt(VIRTIO_VSOCK_OP_REQUEST, 1234, 5000, NULL, 0, 0);
	struct virtio_vsock_hdr *h = next_rx(NULL);
	CHECK(h != NULL);
	if (!h)
		goto out;
	CHECK_EQ(h->op, VIRTIO_VSOCK_OP_RESPONSE);
	CHECK_EQ(h->src_port, 5000u);
	CHECK_EQ(h->dst_port, 1234u);
	CHECK_EQ(h->dst_cid, (uint64_t)CID);
	CHECK_EQ(h->buf_alloc, (uint32_t)VSOCK_CONN_BUF);
	int afd = accept(lfd, NULL, NULL);
	CHECK(afd >= 0);
	send_pkt(VIRTIO_VSOCK_OP_RW, 1234, 5000, "hello", 5, 0);
	char buf[16] = { 0 };
	CHECK_EQ(read(afd, buf, sizeof(buf)), 5);
	CHECK_STR(buf, "hello");
	CHECK_EQ(write(afd, "world!", 6), 6);
	virtio_vsock_poll(t);
	uint8_t *data;
	h = next_rx(&data);
	CHECK(h != NULL);
	if (h) {
		CHECK_EQ(h->op, VIRTIO_VSOCK_OP_RW);
		CHECK_EQ(h->len, 6u);
		CHECK(memcmp(data, "world!", 6) == 0);
	}
	/* Host closes: the guest hears SHUTDOWN, answers RST, the connection is gone. */
	close(afd);
	virtio_vsock_poll(t);
	h = next_rx(NULL);
	CHECK(h != NULL);
	if (h)
		CHECK_EQ(h->op, VIRTIO_VSOCK_OP_SHUTDOWN);
	CHECK_EQ(virtio_vsock_nconns(t), 1u);
	send_pkt(VIRTIO_VSOCK_OP_RST, 1234, 5000, NULL, 0, 0);
	CHECK_EQ(virtio_vsock_nconns(t), 0u);
out:
	virtio_device_free(t);
	close(lfd);
	unlink(path);
}

static void test_guest_refused(void)
{
	make();
	send_pkt(VIRTIO_VSOCK_OP_REQUEST, 1235, 5999, NULL, 0, 0); /* nobody listens on _5999 */
	struct virtio_vsock_hdr *h = next_rx(NULL);
	CHECK(h != NULL);
	if (h) {
		CHECK_EQ(h->op, VIRTIO_VSOCK_OP_RST);
		CHECK_EQ(h->dst_port, 1235u);
	}
	/* Data for a connection that does not exist: RST too. */
	send_pkt(VIRTIO_VSOCK_OP_RW, 1, 2, "x", 1, 0);
	h = next_rx(NULL);
	CHECK(h != NULL && h->op == VIRTIO_VSOCK_OP_RST);
	CHECK_EQ(virtio_vsock_nconns(t), 0u);
	virtio_device_free(t);
}

static void test_host_connects(void)
{
	make();
	int fd = unix_connect(uds);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "CONNECT 52\n", 11), 11);
	virtio_vsock_accept(t);
	struct virtio_vsock_hdr *h = next_rx(NULL);
	CHECK(h != NULL);
	if (!h)
		goto out;
	CHECK_EQ(h->op, VIRTIO_VSOCK_OP_REQUEST);
	CHECK_EQ(h->dst_port, 52u);
	uint32_t hp = h->src_port;
	CHECK(hp >= (1u << 30));
	send_pkt(VIRTIO_VSOCK_OP_RESPONSE, 52, hp, NULL, 0, 0);
	char line[32] = { 0 }, want[32];
	snprintf(want, sizeof(want), "OK %u\n", hp);
	CHECK_EQ(read(fd, line, sizeof(line)), (ssize_t)strlen(want));
	CHECK_STR(line, want);
	CHECK_EQ(write(fd, "ping", 4), 4);
	virtio_vsock_poll(t);
	uint8_t *data;
	h = next_rx(&data);
	CHECK(h && h->op == VIRTIO_VSOCK_OP_RW && h->len == 4 && !memcmp(data, "ping", 4));
	send_pkt(VIRTIO_VSOCK_OP_RW, 52, hp, "pong", 4, 0);
	memset(line, 0, sizeof(line));
	CHECK_EQ(read(fd, line, sizeof(line)), 4);
	CHECK_STR(line, "pong");
	/* Guest shuts down both ways: RST back, host sees EOF. */
	send_pkt(VIRTIO_VSOCK_OP_SHUTDOWN, 52, hp, NULL, 0, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
	h = next_rx(NULL);
	CHECK(h && h->op == VIRTIO_VSOCK_OP_RST);
	CHECK_EQ(read(fd, line, sizeof(line)), 0);
	CHECK_EQ(virtio_vsock_nconns(t), 0u);
out:
	close(fd);
	virtio_device_free(t);
}

static void test_host_bad_line(void)
{
	make();
	int fd = unix_connect(uds);
	CHECK_EQ(write(fd, "HELLO 52\n", 9), 9);
	virtio_vsock_accept(t);
	char c;
	CHECK_EQ(read(fd, &c, 1), 0); /* closed */
	CHECK_EQ(virtio_vsock_nconns(t), 0u);
	CHECK(next_rx(NULL) == NULL);
	close(fd);
	virtio_device_free(t);
}

static void test_credit_violation(void)
{
	char path[160];
	snprintf(path, sizeof(path), "%s_6000", uds);
	int lfd = unix_listen(path);
	make();
	send_pkt(VIRTIO_VSOCK_OP_REQUEST, 77, 6000, NULL, 0, 0);
	struct virtio_vsock_hdr *h = next_rx(NULL);
	CHECK(h && h->op == VIRTIO_VSOCK_OP_RESPONSE);
	int afd = accept(lfd, NULL, NULL);
	/* The host never reads: after its socket buffer and our VSOCK_CONN_BUF, the guest is over
	 * its credit and the connection is reset rather than buffered without bound. */
	static uint8_t chunk[65536];
	bool reset = false;
	for (int i = 0; i < 64 && !reset; i++) {
		send_pkt(VIRTIO_VSOCK_OP_RW, 77, 6000, chunk, sizeof(chunk), 0);
		while ((h = next_rx(NULL)))
			if (h->op == VIRTIO_VSOCK_OP_RST)
				reset = true;
	}
	CHECK(reset);
	CHECK_EQ(virtio_vsock_nconns(t), 0u);
	close(afd);
	close(lfd);
	unlink(path);
	virtio_device_free(t);
}

/* SHUTDOWN_SEND while guest data is still buffered (the host is not reading): the host reads
 * every byte and then EOF, the shutdown is not lost. */
static void test_shutdown_after_buffered(void)
{
	char path[160];
	snprintf(path, sizeof(path), "%s_6001", uds);
	int lfd = unix_listen(path);
	make();
	send_pkt(VIRTIO_VSOCK_OP_REQUEST, 78, 6001, NULL, 0, 0);
	struct virtio_vsock_hdr *h = next_rx(NULL);
	CHECK(h && h->op == VIRTIO_VSOCK_OP_RESPONSE);
	int afd = accept(lfd, NULL, NULL);
	/* 320 KiB: more than the Unix socket takes (~200 KiB), less than the socket plus our
	 * 256 KiB buffer, so part of it waits in the device when the shutdown arrives. */
	static uint8_t chunk[65536];
	size_t sent = 0, got = 0;
	for (int i = 0; i < 5; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		send_pkt(VIRTIO_VSOCK_OP_RW, 78, 6001, chunk, sizeof(chunk), 0);
		sent += sizeof(chunk);
	}
	send_pkt(VIRTIO_VSOCK_OP_SHUTDOWN, 78, 6001, NULL, 0, VIRTIO_VSOCK_SHUTDOWN_SEND);
	while ((h = next_rx(NULL)))
		CHECK(h->op != VIRTIO_VSOCK_OP_RST);
	fcntl(afd, F_SETFL, O_NONBLOCK);
	bool eof = false;
	for (int i = 0; i < 10000 && !eof; i++) {
		ssize_t n = read(afd, chunk, sizeof(chunk));
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			eof = true;
		else
			virtio_vsock_poll(t);	/* the socket has room again: flush */
	}
	CHECK_EQ(got, sent);
	CHECK(eof);
	close(afd);
	close(lfd);
	unlink(path);
	virtio_device_free(t);
}

/* A guest that never answers: host connections that sent CONNECT wait for its RESPONSE. Past
 * VSOCK_MAX_HALF_OPEN the oldest is reset (the host sees EOF, the guest an RST) instead of the
 * table filling up and refusing everyone. */
static void test_half_open_bounded(void)
{
	enum { N = VSOCK_MAX_HALF_OPEN + 40 };
	static int fds[N];
	make();
	for (int i = 0; i < N; i++) {
		fds[i] = unix_connect(uds);
		CHECK(fds[i] >= 0);
		CHECK_EQ(write(fds[i], "CONNECT 52\n", 11), 11);
		virtio_vsock_accept(t);
	}
	CHECK_EQ(virtio_vsock_nconns(t), (unsigned)VSOCK_MAX_HALF_OPEN);
	char c;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[N - 1], F_SETFL, O_NONBLOCK);
	CHECK_EQ(read(fds[0], &c, 1), 0);		/* the oldest was reset */
	CHECK(read(fds[N - 1], &c, 1) < 0 && errno == EAGAIN);	/* the newest still waits */
	bool rst = false;
	struct virtio_vsock_hdr *h;
	for (int i = 0; i < 2 * N && (h = next_rx(NULL)); i++)
		rst |= h->op == VIRTIO_VSOCK_OP_RST;
	CHECK(rst);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	virtio_device_free(t);
}

/* A second device on the socket a running one listens on fails and leaves it alone; a stale
 * socket (nobody listening) is replaced; destroy removes only the socket it bound itself. */
static void test_uds_ownership(void)
{
	cap_err err = { 0 };
	make();
	CHECK(t != NULL);
	if (!t)
		return;
	struct virtio_mmio *t2 = virtio_vsock_create(&gm, CID + 1, uds, &err);
	CHECK(t2 == NULL);
	CHECK(strstr(err.msg, "in use by another process") != NULL);
	CHECK_EQ(err.errnum, EADDRINUSE);
	if (t2)
		virtio_device_free(t2);
	int fd = unix_connect(uds);	/* the first device still listens there */
	CHECK(fd >= 0);
	close(fd);

	/* Someone replaced our socket (removed it, bound their own): ours is destroyed, theirs stays. */
	unlink(uds);
	int other = unix_listen(uds);
	CHECK(other >= 0);
	virtio_device_free(t);
	CHECK(access(uds, F_OK) == 0);
	close(other);	/* now stale: a new device takes the path over */

	cap_err err2 = { 0 };
	t = virtio_vsock_create(&gm, CID, uds, &err2);
	CHECK(t != NULL);
	if (t)
		virtio_device_free(t);
	CHECK(access(uds, F_OK) != 0);
}

static void test_malformed_dropped(void)
{
	make();
	/* From the wrong CID: dropped silently. */
	struct virtio_vsock_hdr hd = { .src_cid = 9, .dst_cid = 2, .src_port = 1, .dst_port = 2,
				       .type = VIRTIO_VSOCK_TYPE_STREAM, .op = VIRTIO_VSOCK_OP_REQUEST };
	memcpy(ram + 0x60000, &hd, sizeof(hd));
	q_add(&txq, 0x60000, sizeof(hd), 0);
	/* len larger than the buffer: dropped. */
	hd.src_cid = CID;
	hd.len = 100;
	memcpy(ram + 0x61000, &hd, sizeof(hd));
	q_add(&txq, 0x61000, sizeof(hd) + 10, 0);
	/* Short header: dropped. */
	q_add(&txq, 0x62000, 10, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	CHECK_EQ(used(&txq)->idx, 3);
	CHECK(next_rx(NULL) == NULL);
	CHECK_EQ(virtio_vsock_nconns(t), 0u);
	CHECK(!(rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET));
	virtio_device_free(t);
}

int main(void)
{
	ram = aligned_alloc(4096, FAKE_MEM * 2);
	if (!ram)
		return 1;
	cap_log_set_level(CAP_LOG_ERROR);
	strcpy(dir, "/tmp/capsule-vsock.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	RUN(test_config);
	RUN(test_guest_connects);
	RUN(test_guest_refused);
	RUN(test_host_connects);
	RUN(test_host_bad_line);
	RUN(test_credit_violation);
	RUN(test_malformed_dropped);
	RUN(test_shutdown_after_buffered);
	RUN(test_half_open_bounded);
	RUN(test_uds_ownership);
	unlink(uds);
	rmdir(dir);
	free(ram);
	UNIT_EXIT();
}
