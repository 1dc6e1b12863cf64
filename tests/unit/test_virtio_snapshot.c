/* Saving and restoring virtio devices (virtio/mmio_state.c) over a plain buffer as guest RAM:
 * a restored virtio-rng goes on from the saved queue positions (the next request lands in the
 * next used slot, requests published before the snapshot are still served); a section that
 * moves a ring outside RAM, changes the offered features or the queue count is refused and
 * leaves the device reset; a restored virtio-vsock tells its driver TRANSPORT_RESET. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/lib/log.h"
#include "../../src/vmm/virtio/devices.h"
#include "../../src/vmm/virtio/vsock.h"

#define RAM (1u << 20)
#define NQ 8

static uint8_t *ram;
static struct guest_mem gm;

struct fq {
	uint64_t desc, avail, used;
	uint16_t avail_idx;
};

static void wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, true);
}

static uint32_t rd(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v = 0;
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, false);
	return v;
}

static void driver_up(struct virtio_mmio *t, struct fq *qs, unsigned nq)
{
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned i = 0; i < nq; i++) {
		wr(t, VIRTIO_MMIO_QUEUE_SEL, i);
		wr(t, VIRTIO_MMIO_QUEUE_NUM, NQ);
		wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)qs[i].desc);
		wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)qs[i].avail);
		wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)qs[i].used);
		wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
				     VIRTIO_CONFIG_S_DRIVER_OK);
}

/* One device-writable buffer of len bytes at addr, published (no notify). */
static void post(struct fq *q, uint64_t addr, uint32_t len)
{
	uint16_t i = q->avail_idx % NQ;
	((struct vring_desc *)(ram + q->desc))[i] = (struct vring_desc){ addr, len, VRING_DESC_F_WRITE, 0 };
	struct vring_avail *a = (struct vring_avail *)(ram + q->avail);
	a->ring[q->avail_idx % NQ] = i;
	q->avail_idx++;
	__atomic_store_n(&a->idx, q->avail_idx, __ATOMIC_RELEASE);
}

static struct vring_used *used(struct fq *q)
{
	return (struct vring_used *)(ram + q->used);
}

static int save(struct virtio_mmio *t, struct vmstate_out *o)
{
	vmstate_out_init(o);
	vmstate_begin(o, "dev", 1);
	int r = virtio_mmio_save(t, o);
	if (r == 0)
		r = vmstate_end(o);
	return r;
}

static int restore(struct virtio_mmio *t, struct vmstate_out *o)
{
	struct vmstate_in in;
	vmstate_in_init(&in, o->buf, o->len);
	if (vmstate_open(&in, "dev", NULL) < 0)
		return -EINVAL;
	return virtio_mmio_restore(t, &in);
}

static void test_rng_positions(void)
{
	cap_err err = { 0 };
	struct fq q = { 0x1000, 0x2000, 0x3000, 0 };
	memset(ram, 0, RAM);
	struct virtio_mmio *a = virtio_rng_create(&gm, &err);
	driver_up(a, &q, 1);
	for (int i = 0; i < 3; i++) {
		post(&q, 0x10000 + (uint64_t)i * 64, 64);
		wr(a, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	}
	CHECK_EQ(used(&q)->idx, 3);
	post(&q, 0x10000 + 3 * 64, 64); /* published, not yet kicked when the snapshot is taken */
	struct vmstate_out o;
	CHECK_EQ(save(a, &o), 0);
	virtio_device_free(a);

	struct virtio_mmio *b = virtio_rng_create(&gm, &err);
	CHECK_EQ(restore(b, &o), 0);
	CHECK_EQ(rd(b, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
	wr(b, VIRTIO_MMIO_QUEUE_SEL, 0);
	CHECK_EQ(rd(b, VIRTIO_MMIO_QUEUE_READY), 1);
	/* the kick the resume replays serves the pending request in used slot 3, not slot 0 */
	virtio_mmio_kick(b, 0);
	CHECK_EQ(used(&q)->idx, 4);
	CHECK_EQ(used(&q)->ring[3].id, 3);
	CHECK_EQ(used(&q)->ring[3].len, 64);
	post(&q, 0x10000 + 4 * 64, 32);
	wr(b, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(used(&q)->idx, 5);
	CHECK_EQ(used(&q)->ring[4].len, 32);
	virtio_device_free(b);
	vmstate_out_free(&o);
}

/* Change one u64 field of a saved section (same length, so the stream stays well formed). */
static void patch_u64(struct vmstate_out *o, const char *name, uint64_t v)
{
	size_t n = strlen(name);
	for (size_t i = 0; i + 2 + n + 8 <= o->len; i++)
		if (o->buf[i] == VMSTATE_U64 && o->buf[i + 1] == n && !memcmp(o->buf + i + 2, name, n)) {
			memcpy(o->buf + i + 2 + n, &v, 8);
			return;
		}
	CHECK(!"field not found");
}

static void test_rng_hostile(void)
{
	cap_err err = { 0 };
	struct fq q = { 0x1000, 0x2000, 0x3000, 0 };
	memset(ram, 0, RAM);
	struct virtio_mmio *a = virtio_rng_create(&gm, &err);
	driver_up(a, &q, 1);
	struct vmstate_out o;
	CHECK_EQ(save(a, &o), 0);
	virtio_device_free(a);
	static const struct { const char *field; uint64_t v; } bad[] = {
		{ "q0.used", RAM - 8 },		/* the used ring runs past RAM */
		{ "q0.desc", 1ull << 40 },	/* outside RAM */
		{ "q0.avail", 0x2001 },		/* misaligned */
		{ "host_features", 0 },		/* not what this device offers */
		{ "driver_features", 1ull << 60 },	/* more than offered */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vmstate_out c = { 0 };
		vmstate_out_init(&c);
		c.buf = malloc(o.len);
		memcpy(c.buf, o.buf, o.len);
		c.len = c.cap = o.len;
		patch_u64(&c, bad[i].field, bad[i].v);
		struct virtio_mmio *b = virtio_rng_create(&gm, &err);
		CHECK(restore(b, &c) < 0);
		CHECK_EQ(rd(b, VIRTIO_MMIO_STATUS), 0); /* nothing half-restored */
		virtio_device_free(b);
		vmstate_out_free(&c);
	}
	/* another device's section */
	struct virtio_mmio *bl = virtio_balloon_create(&gm, &err);
	CHECK(restore(bl, &o) < 0);
	virtio_device_free(bl);
	vmstate_out_free(&o);
}

static void test_vsock_transport_reset(void)
{
	cap_err err = { 0 };
	char dir[] = "/tmp/capsule-vsnap.XXXXXX", uds[64];
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	struct fq qs[3] = { { 0x1000, 0x2000, 0x3000, 0 }, { 0x4000, 0x5000, 0x6000, 0 }, { 0x7000, 0x8000, 0x9000, 0 } };
	memset(ram, 0, RAM);
	struct virtio_mmio *a = virtio_vsock_create(&gm, 3, uds, &err);
	CHECK(a != NULL);
	if (!a)
		return;
	driver_up(a, qs, 3);
	post(&qs[2], 0x20000, sizeof(struct virtio_vsock_event));
	wr(a, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	CHECK_EQ(used(&qs[2])->idx, 0); /* a running device never sends the event */
	struct vmstate_out o;
	CHECK_EQ(save(a, &o), 0);
	virtio_device_free(a);
	memset(ram + 0x20000, 0xff, 4);
	struct virtio_mmio *b = virtio_vsock_create(&gm, 3, uds, &err);
	CHECK_EQ(restore(b, &o), 0);
	CHECK_EQ(used(&qs[2])->idx, 1);
	uint32_t id;
	memcpy(&id, ram + 0x20000, 4);
	CHECK_EQ(id, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	virtio_device_free(b);
	/* a device restored for another CID refuses */
	struct virtio_mmio *c = virtio_vsock_create(&gm, 4, uds, &err);
	CHECK(restore(c, &o) < 0);
	virtio_device_free(c);
	vmstate_out_free(&o);
	rmdir(dir);
}

int main(void)
{
	ram = aligned_alloc(4096, RAM);
	if (!ram)
		return 1;
	guest_mem_init_buffer(&gm, ram, RAM);
	cap_log_set_level(CAP_LOG_ERROR);
	RUN(test_rng_positions);
	RUN(test_rng_hostile);
	RUN(test_vsock_transport_reset);
	free(ram);
	return unit_failed_total ? 1 : 0;
}
