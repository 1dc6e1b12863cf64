/* A tiny network stack on virtio-net (--net tap=NAME): answers ARP for net.ip (default
 * 10.213.1.2) and, for each UDP datagram to port 7777, prints its payload and answers with
 * "hello host over udp" to the sender's address, port 7778. Exits 0 after net.replies (default 1)
 * such answers. Everything is polled; the host side sends and listens (tests/vm/test_guests.sh). */
#include "virtio.h"

#define Q_RX 0
#define Q_TX 1
#define NRX 4
#define BUFSZ 2048
#define HDR_LEN 12	/* struct virtio_net_hdr_v1 */
#define F_MAC (1ULL << 5)
#define UDP_PORT 7777
#define REPLY_PORT 7778
#define MAX_FRAMES 200	/* frames looked at before giving up */

static uint8_t rx[NRX][BUFSZ], tx[BUFSZ];
static uint8_t mac[6], ip[4];

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t ip_checksum(const uint8_t *p, unsigned n)
{
	uint32_t sum = 0;
	unsigned i;

	for (i = 0; i + 1 < n; i += 2)
		sum += be16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void add_rx(struct vio_dev *d, unsigned slot)
{
	struct vio_buf b = { rx[slot], BUFSZ, 1 };

	vio_add(d, Q_RX, slot, &b, 1);
}

/* Sends tx[HDR_LEN .. HDR_LEN + len) as one frame (the header stays zero: no offloads). */
static int send_frame(struct vio_dev *d, unsigned len)
{
	struct vio_buf b = { tx, HDR_LEN + len, 0 };

	vio_add(d, Q_TX, 0, &b, 1);
	vio_notify_q(d, Q_TX);
	if (!vio_wait(d, Q_TX, 0))
		return -1;
	vio_take(d, Q_TX, NULL, NULL);
	return 0;
}

static int arp(struct vio_dev *d, const uint8_t *f, unsigned len)
{
	const uint8_t *a = f + 14;
	uint8_t *o = tx + HDR_LEN;

	if (len < 42 || be16(a) != 1 || be16(a + 2) != 0x0800 || be16(a + 6) != 1 || memcmp(a + 24, ip, 4))
		return 0;
	memcpy(o, a + 8, 6);	/* to the asker */
	memcpy(o + 6, mac, 6);
	put16(o + 12, 0x0806);
	memcpy(o + 14, a, 6);	/* htype, ptype, hlen, plen */
	put16(o + 20, 2);	/* reply */
	memcpy(o + 22, mac, 6);
	memcpy(o + 28, ip, 4);
	memcpy(o + 32, a + 8, 10);	/* target: the asker's MAC and IP */
	rt_printf("net: arp reply to %u.%u.%u.%u\n", a[14], a[15], a[16], a[17]);
	return send_frame(d, 42) < 0 ? -1 : 0;
}

/* 1 when it answered a datagram, 0 for anything else, -1 on a send failure. */
static int udp(struct vio_dev *d, const uint8_t *f, unsigned len)
{
	static const char reply[] = "hello host over udp\n";
	const uint8_t *iph = f + 14, *u, *payload;
	unsigned ihl, n, i, total;
	uint8_t *o = tx + HDR_LEN;

	if (len < 14 + 20 + 8 || (iph[0] >> 4) != 4 || iph[9] != 17 || memcmp(iph + 16, ip, 4))
		return 0;
	ihl = (iph[0] & 15) * 4u;
	u = iph + ihl;
	if (ihl < 20 || 14 + ihl + 8 > len || be16(u + 2) != UDP_PORT)
		return 0;
	n = be16(u + 4) - 8u;
	payload = u + 8;
	if (be16(u + 4) < 8 || payload + n > f + len)
		return 0;
	rt_printf("net: udp from %u.%u.%u.%u:%u: [", iph[12], iph[13], iph[14], iph[15], be16(u));
	for (i = 0; i < n && payload[i] >= ' ' && payload[i] <= '~'; i++)
		rt_putc((char)payload[i]);
	rt_puts("]\n");

	memcpy(o, f + 6, 6);
	memcpy(o + 6, mac, 6);
	put16(o + 12, 0x0800);
	total = 20 + 8 + sizeof(reply) - 1;
	memset(o + 14, 0, 20);
	o[14] = 0x45;
	put16(o + 16, (uint16_t)total);
	put16(o + 20, 0x4000);	/* don't fragment */
	o[22] = 64;
	o[23] = 17;
	memcpy(o + 26, ip, 4);
	memcpy(o + 30, iph + 12, 4);
	put16(o + 24, ip_checksum(o + 14, 20));
	put16(o + 34, UDP_PORT);
	put16(o + 36, REPLY_PORT);
	put16(o + 38, (uint16_t)(8 + sizeof(reply) - 1));
	put16(o + 40, 0);	/* no UDP checksum: allowed over IPv4 */
	memcpy(o + 42, reply, sizeof(reply) - 1);
	if (send_frame(d, 14 + total) < 0)
		return -1;
	rt_printf("net: replied to %u.%u.%u.%u:%u\n", iph[12], iph[13], iph[14], iph[15], REPLY_PORT);
	return 1;
}

/* Parses the dotted quad of key=A.B.C.D, or keeps def. */
static void cmdline_ip(const char *key, uint8_t out[4])
{
	const char *s = rt_cmdline();
	size_t n = strlen(key);

	for (; *s; s++) {
		uint8_t v[4] = { 0 };
		int i;

		if ((s != rt_cmdline() && s[-1] != ' ') || memcmp(s, key, n) || s[n] != '=')
			continue;
		s += n + 1;
		for (i = 0; i < 4; i++) {
			unsigned x = 0, digits = 0;

			for (; *s >= '0' && *s <= '9'; s++, digits++)
				x = x * 10 + (unsigned)(*s - '0');
			if (!digits || x > 255 || (i < 3 && *s++ != '.'))
				return;
			v[i] = (uint8_t)x;
		}
		memcpy(out, v, 4);
		return;
	}
}

int guest_main(void)
{
	struct vio_dev d;
	unsigned want = (unsigned)rt_cmdline_num("net.replies", 1), done = 0, frames, i;

	ip[0] = 10, ip[1] = 213, ip[2] = 1, ip[3] = 2;
	cmdline_ip("net.ip", ip);
	if (vio_find(VIO_ID_NET, 0, &d) < 0) {
		rt_puts("net: no virtio-net device on the command line\n");
		return RT_EXIT_FAIL;
	}
	if (vio_init_queues(&d, F_MAC, 2) < 0)
		return RT_EXIT_FAIL;
	for (i = 0; i < 6; i++)
		mac[i] = vio_config8(&d, i);
	for (i = 0; i < NRX; i++)
		add_rx(&d, i);
	vio_notify_q(&d, Q_RX);
	rt_printf("net: ready, mac %02x:%02x:%02x:%02x:%02x:%02x ip %u.%u.%u.%u\n", mac[0], mac[1], mac[2],
		  mac[3], mac[4], mac[5], ip[0], ip[1], ip[2], ip[3]);

	for (frames = 0; done < want && frames < MAX_FRAMES; frames++) {
		uint32_t head, len;
		const uint8_t *f;
		int r = 0;

		if (!vio_wait(&d, Q_RX, 0)) {
			rt_puts("net: nothing received\n");
			return RT_EXIT_FAIL;
		}
		vio_take(&d, Q_RX, &head, &len);
		if (head >= NRX || len < HDR_LEN + 14 || len > BUFSZ) {
			rt_printf("net: bad rx entry (head %u, %u bytes)\n", head, len);
			return RT_EXIT_FAIL;
		}
		f = rx[head] + HDR_LEN;
		len -= HDR_LEN;
		if (be16(f + 12) == 0x0806)
			r = arp(&d, f, len);
		else if (be16(f + 12) == 0x0800)
			r = udp(&d, f, len);
		if (r < 0) {
			rt_puts("net: send timed out\n");
			return RT_EXIT_FAIL;
		}
		done += (unsigned)r;
		add_rx(&d, head);
		vio_notify_q(&d, Q_RX);
	}
	rt_printf("net: %u replies after %u frames\n", done, frames);
	return done >= want ? 0 : RT_EXIT_FAIL;
}
