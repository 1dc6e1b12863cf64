/* virtio-net against a fake guest memory and a real TAP device (needs CAP_NET_ADMIN and
 * /dev/net/tun; SKIP otherwise). Frames the guest transmits are seen on the interface by a packet
 * socket; frames sent on the interface arrive in the guest's receive buffers, merged over several
 * buffers with MRG_RXBUF, and wait when the driver has too few buffers. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "test_virtio_fake.h"
#include "../../src/lib/log.h"
#include "../../src/vmm/virtio/devices.h"
#include "../../src/vmm/virtio/net.h"

#define ETHERTYPE 0x88b5	/* IEEE local experimental: nothing else on the link uses it */
#define NQ 16

struct fq {
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next;
};

static uint8_t *ram;
static struct guest_mem gm;
static struct fq rxq, txq;
static struct virtio_mmio *t;
static char ifname[IFNAMSIZ];
static int pkt = -1, ifindex;
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

static void wr(uint64_t off, uint32_t v)
{
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, true);
}

static void q_add(struct fq *q, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t i = q->next;
	q->next = (uint16_t)((q->next + 1) % NQ);
	((struct vring_desc *)(ram + q->desc))[i] = (struct vring_desc){ addr, len, flags, 0 };
	struct vring_avail *a = (struct vring_avail *)(ram + q->avail);
	a->ring[q->avail_idx % NQ] = i;
	a->idx = ++q->avail_idx;
}

static struct vring_used *used(struct fq *q)
{
	return (struct vring_used *)(ram + q->used);
}

/* RX buffer i lives at 0x10000 + i * 0x1000. */
static void post_rx(unsigned n, uint32_t len)
{
	for (unsigned k = 0; k < n; k++)
		q_add(&rxq, 0x10000 + (uint64_t)rxq.next * 0x1000, len, VRING_DESC_F_WRITE);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static size_t frame(uint8_t *buf, const char *payload, size_t pad)
{
	memset(buf, 0xff, 6);
	memcpy(buf + 6, mac, 6);
	buf[12] = ETHERTYPE >> 8;
	buf[13] = ETHERTYPE & 0xff;
	size_t n = strlen(payload);
	memcpy(buf + 14, payload, n);
	memset(buf + 14 + n, 'p', pad);
	return 14 + n + pad;
}

static bool setup(void)
{
	cap_err err = { 0 };
	struct vm_net_config cfg = { .has_mac = true };
	memcpy(cfg.mac, mac, 6);
	cfg.tap = ifname;
	memset(ram, 0, FAKE_MEM);
	guest_mem_init_buffer(&gm, ram, FAKE_MEM);
	rxq = (struct fq){ 0x1000, 0x2000, 0x3000, 0, 0, 0 };
	txq = (struct fq){ 0x4000, 0x5000, 0x6000, 0, 0, 0 };
	t = virtio_net_create(&gm, &cfg, &err);
	if (!t) {
		printf("# %s\n", err.msg);
		return false;
	}
	uint64_t feat = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			(1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	struct fq *qs[2] = { &rxq, &txq };
	for (unsigned q = 0; q < 2; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, NQ);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)qs[q]->desc);
		wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)qs[q]->avail);
		wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)qs[q]->used);
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);

	/* No IPv6 on the test interface: the kernel would otherwise send its own frames (DAD, router
	 * solicitations) when the link comes up, using up the small RX buffers the tests count. */
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
	/* The interface up, and a packet socket on it for the other end. */
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	int r = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	ifindex = (int)if_nametoindex(ifname);
	pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE), .sll_ifindex = ifindex };
	return r == 0 && ifindex > 0 && pkt >= 0 && bind(pkt, (struct sockaddr *)&sll, sizeof(sll)) == 0;
}

static void teardown(void)
{
	if (pkt >= 0)
		close(pkt);
	pkt = -1;
	if (t)
		virtio_device_free(t);
	t = NULL;
}

static void test_config(void)
{
	if (!setup()) {
		CHECK(!"setup");
		teardown();
		return;
	}
	uint8_t m[6];
	for (int i = 0; i < 6; i++)
		virtio_mmio_access(t, VIRTIO_MMIO_CONFIG + (uint64_t)i, &m[i], 1, false);
	CHECK(memcmp(m, mac, 6) == 0);
	teardown();
}

static void test_tx(void)
{
	if (!setup()) {
		CHECK(!"setup");
		teardown();
		return;
	}
	/* vnet header and frame in two descriptors of one chain. */
	memset(ram + 0x40000, 0, NET_HDR_LEN);
	size_t n = frame(ram + 0x41000, "capsule-tx", 50);
	((struct vring_desc *)(ram + txq.desc))[0] = (struct vring_desc){ 0x40000, NET_HDR_LEN, VRING_DESC_F_NEXT, 1 };
	((struct vring_desc *)(ram + txq.desc))[1] = (struct vring_desc){ 0x41000, (uint32_t)n, 0, 0 };
	struct vring_avail *a = (struct vring_avail *)(ram + txq.avail);
	a->ring[0] = 0;
	a->idx = ++txq.avail_idx;
	/* And a chain too short to hold a header: dropped, but returned. */
	((struct vring_desc *)(ram + txq.desc))[2] = (struct vring_desc){ 0x40000, 4, 0, 0 };
	a->ring[1] = 2;
	a->idx = ++txq.avail_idx;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	CHECK_EQ(used(&txq)->idx, 2);
	uint8_t buf[2048];
	struct pollfd p = { .fd = pkt, .events = POLLIN };
	bool seen = false;
	while (!seen && poll(&p, 1, 2000) == 1) {
		ssize_t r = recv(pkt, buf, sizeof(buf), 0);
		seen = r == (ssize_t)n && memcmp(buf + 14, "capsule-tx", 10) == 0;
	}
	CHECK(seen);
	teardown();
}

/* Send a frame on the interface and let the device read the TAP. */
static void inject(const char *payload, size_t pad)
{
	uint8_t buf[2048];
	size_t n = frame(buf, payload, pad);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE),
				   .sll_ifindex = ifindex, .sll_halen = 6 };
	memset(sll.sll_addr, 0xff, 6);
	CHECK_EQ(sendto(pkt, buf, n, 0, (struct sockaddr *)&sll, sizeof(sll)), (ssize_t)n);
	usleep(20000);
	virtio_net_poll(t);
}

/* Find our frame among what the device delivered (the kernel may send its own frames too).
 * Returns the number of buffers it used, 0 if not found. */
static unsigned find_rx(const char *payload, size_t *total)
{
	while (rxq.used_seen != used(&rxq)->idx) {
		struct vring_used_elem e = used(&rxq)->ring[rxq.used_seen % NQ];
		rxq.used_seen++;
		uint8_t *p = ram + 0x10000 + (uint64_t)e.id * 0x1000;
		struct virtio_net_hdr_v1 h;
		memcpy(&h, p, sizeof(h));
		/* Gather the frame from num_buffers consecutive used entries. */
		static uint8_t frame_buf[4096];
		size_t len = e.len;
		memcpy(frame_buf, p, e.len);
		for (unsigned k = 1; k < h.num_buffers; k++) {
			e = used(&rxq)->ring[rxq.used_seen % NQ];
			rxq.used_seen++;
			memcpy(frame_buf + len, ram + 0x10000 + (uint64_t)e.id * 0x1000, e.len);
			len += e.len;
		}
		if (len > NET_HDR_LEN + 14 && frame_buf[NET_HDR_LEN + 12] == (ETHERTYPE >> 8) &&
		    memcmp(frame_buf + NET_HDR_LEN + 14, payload, strlen(payload)) == 0) {
			*total = len;
			return h.num_buffers;
		}
	}
	return 0;
}

/* Poll the device until our frame shows up (bounded at 2 s, so a slow or loaded host does not
 * turn a delivered frame into a miss). Returns the buffers it used, 0 if it never came. */
static unsigned rx_wait(const char *payload, size_t *total)
{
	for (int i = 0; i < 400; i++) {
		unsigned n = find_rx(payload, total);
		if (n)
			return n;
		usleep(5000);
		virtio_net_poll(t);
	}
	return 0;
}

static void test_rx_merge(void)
{
	size_t total = 0;
	if (!setup()) {
		CHECK(!"setup");
		teardown();
		return;
	}
	post_rx(8, 2048);
	inject("capsule-rx-1", 100);
	CHECK_EQ(rx_wait("capsule-rx-1", &total), 1u);
	CHECK_EQ(total, (size_t)(NET_HDR_LEN + 14 + 12 + 100));

	/* Small buffers: one frame spans several (MRG_RXBUF), num_buffers says how many. */
	teardown();
	CHECK(setup());
	post_rx(6, 64);
	inject("capsule-rx-2", 100);		/* 12 + 126 = 138 bytes: three 64-byte buffers */
	CHECK_EQ(rx_wait("capsule-rx-2", &total), 3u);
	CHECK_EQ(total, (size_t)(NET_HDR_LEN + 14 + 12 + 100));
	teardown();
}

static void test_rx_waits_for_buffers(void)
{
	size_t total = 0;
	if (!setup()) {
		CHECK(!"setup");
		teardown();
		return;
	}
	post_rx(1, 64);
	inject("capsule-rx-3", 100);		/* needs three buffers, the driver gave one */
	for (int i = 0; i < 20; i++) {		/* however long we poll, it cannot be delivered */
		usleep(5000);
		virtio_net_poll(t);
	}
	CHECK_EQ(find_rx("capsule-rx-3", &total), 0u);
	post_rx(4, 64);				/* the RX kick delivers the waiting frame */
	CHECK_EQ(rx_wait("capsule-rx-3", &total), 3u);
	teardown();
}

int main(void)
{
	cap_log_set_level(CAP_LOG_ERROR);
	snprintf(ifname, sizeof(ifname), "capvn%d", (int)(getpid() % 100000));
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (access("/dev/net/tun", R_OK | W_OK) != 0 || fd < 0) {
		const char *why = "needs /dev/net/tun and CAP_NET_ADMIN/CAP_NET_RAW";
		SKIP(test_config, why);
		SKIP(test_tx, why);
		SKIP(test_rx_merge, why);
		SKIP(test_rx_waits_for_buffers, why);
		return 0;
	}
	close(fd);
	ram = aligned_alloc(4096, FAKE_MEM);
	if (!ram)
		return 1;
	RUN(test_config);
	RUN(test_tx);
	RUN(test_rx_merge);
	RUN(test_rx_waits_for_buffers);
	free(ram);
	UNIT_EXIT();
}
