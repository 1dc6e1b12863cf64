/* The virtio-mmio v2 register file: identification, feature negotiation, the status state
 * machine, queue setup, notification, interrupts, config space, NEEDS_RESET — driven the way a
 * driver would, against a fake guest memory; virtio-rng serves as the device. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>

#include "unit.h"
#include "test_virtio_fake.h"
#include "../../src/lib/log.h"
#include "../../src/vmm/virtio/devices.h"

static uint8_t *ram;
static struct fake f;

static uint32_t rd(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v = 0xdeadbeef;
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, false);
	return v;
}

static void wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, true);
}

/* The driver's init sequence (3.1.1) up to FEATURES_OK with the given features. */
static uint32_t negotiate(struct virtio_mmio *t, uint64_t feat)
{
	wr(t, VIRTIO_MMIO_STATUS, 0);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	return rd(t, VIRTIO_MMIO_STATUS);
}

static void setup_queue(struct virtio_mmio *t, unsigned qi, uint16_t num)
{
	wr(t, VIRTIO_MMIO_QUEUE_SEL, qi);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, FAKE_DESC);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, FAKE_AVAIL);
	wr(t, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, FAKE_USED);
	wr(t, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

static const uint64_t V1 = 1ULL << VIRTIO_F_VERSION_1;
#define LIVE (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | \
	      VIRTIO_CONFIG_S_DRIVER_OK)

static struct virtio_mmio *live_rng(void)
{
	cap_err err = { 0 };
	fake_init(&f, ram, 8);
	struct virtio_mmio *t = virtio_rng_create(&f.gm, &err);
	if (!t)
		return NULL;
	negotiate(t, V1);
	setup_queue(t, 0, 8);
	wr(t, VIRTIO_MMIO_STATUS, LIVE);
	return t;
}

static void test_identity(void)
{
	cap_err err = { 0 };
	fake_init(&f, ram, 8);
	struct virtio_mmio *t = virtio_rng_create(&f.gm, &err);
	CHECK(t != NULL);
	CHECK_EQ(rd(t, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
	CHECK_EQ(rd(t, VIRTIO_MMIO_VERSION), 2u);
	CHECK_EQ(rd(t, VIRTIO_MMIO_DEVICE_ID), (uint32_t)VIRTIO_ID_RNG);
	CHECK_EQ(rd(t, VIRTIO_MMIO_VENDOR_ID), (uint32_t)VIRTIO_MMIO_VENDOR);
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CHECK(rd(t, VIRTIO_MMIO_DEVICE_FEATURES) & 1); /* VERSION_1 is bit 32 */
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = rd(t, VIRTIO_MMIO_DEVICE_FEATURES);
	CHECK(lo & (1u << VIRTIO_RING_F_INDIRECT_DESC));
	CHECK(lo & (1u << VIRTIO_RING_F_EVENT_IDX));
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
	CHECK_EQ(rd(t, VIRTIO_MMIO_DEVICE_FEATURES), 0u);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), (uint32_t)VIRTQ_MAX_SIZE);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 1); /* rng has one queue */
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0u);
	CHECK_EQ(rd(t, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
	/* Narrow or misaligned register accesses read as zero and write nothing. */
	uint8_t b = 0x55;
	virtio_mmio_access(t, VIRTIO_MMIO_MAGIC_VALUE, &b, 1, false);
	CHECK_EQ(b, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_MAGIC_VALUE + 2), 0u);
	virtio_device_free(t);
}

static void test_features(void)
{
	cap_err err = { 0 };
	fake_init(&f, ram, 8);
	struct virtio_mmio *t = virtio_rng_create(&f.gm, &err);
	/* Without VERSION_1 the device refuses FEATURES_OK (legacy is not offered). */
	CHECK(!(negotiate(t, 0) & VIRTIO_CONFIG_S_FEATURES_OK));
	/* A feature the device did not offer is refused too. */
	CHECK(!(negotiate(t, V1 | (1ULL << 40)) & VIRTIO_CONFIG_S_FEATURES_OK));
	CHECK(negotiate(t, V1) & VIRTIO_CONFIG_S_FEATURES_OK);
	/* After FEATURES_OK the feature set is frozen. */
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_RING_F_EVENT_IDX);
	CHECK_EQ(t->driver_features, V1);
	virtio_device_free(t);
}

static void test_status_machine(void)
{
	cap_err err = { 0 };
	fake_init(&f, ram, 8);
	struct virtio_mmio *t = virtio_rng_create(&f.gm, &err);
	/* DRIVER_OK without FEATURES_OK is not accepted. */
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), (uint32_t)(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER));
	/* Bits cannot be cleared except by a reset. */
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), (uint32_t)(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER));
	/* The driver cannot set NEEDS_RESET itself. */
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(!(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET));
	/* A queue cannot go ready before FEATURES_OK. */
	setup_queue(t, 0, 8);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_READY), 0u);
	CHECK(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* Reset clears everything. */
	wr(t, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), 0u);
	CHECK_EQ(t->driver_features, 0u);
	negotiate(t, V1);
	setup_queue(t, 0, 8);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_READY), 1u);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), FAKE_DESC);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_USED_LOW), FAKE_USED);
	/* Queue registers are frozen while the queue is ready. */
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), FAKE_DESC);
	wr(t, VIRTIO_MMIO_STATUS, LIVE);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), (uint32_t)LIVE);
	wr(t, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_READY), 0u);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), 0u);
	virtio_device_free(t);
}

static void test_bad_ring_needs_reset(void)
{
	cap_err err = { 0 };
	fake_init(&f, ram, 8);
	struct virtio_mmio *t = virtio_rng_create(&f.gm, &err);
	negotiate(t, V1);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, 8);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, 1); /* 4 GiB: no RAM there */
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_READY), 0u);
	CHECK(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	virtio_device_free(t);
}

static void test_rng_request(void)
{
	struct virtio_mmio *t = live_rng();
	CHECK(t != NULL);
	memset(ram + FAKE_DATA, 0, 4096);
	fake_set(&f, 0, FAKE_DATA, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	fake_set(&f, 1, FAKE_DATA + 1024, 64, VRING_DESC_F_WRITE, 0);
	fake_publish(&f, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(fake_used(&f)->idx, 1);
	CHECK_EQ(fake_used(&f)->ring[0].len, 128u);
	int nz = 0;
	for (int i = 0; i < 64; i++)
		nz += ram[FAKE_DATA + i] != 0 || ram[FAKE_DATA + 1024 + i] != 0;
	CHECK(nz > 32);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), (uint32_t)VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(atomic_load(&t->interrupts), 1u);
	wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0u);
	/* Notify for a queue that does not exist is ignored. */
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 5);
	CHECK_EQ(fake_used(&f)->idx, 1);
	virtio_device_free(t);
}

static void test_malformed_chain_needs_reset(void)
{
	struct virtio_mmio *t = live_rng();
	fake_set(&f, 0, FAKE_DATA, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0); /* self loop */
	fake_publish(&f, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	CHECK_EQ(fake_used(&f)->idx, 0);
	/* Nothing more is processed until the reset... */
	fake_set(&f, 1, FAKE_DATA, 64, VRING_DESC_F_WRITE, 0);
	fake_publish(&f, 1);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(fake_used(&f)->idx, 0);
	/* ...after which the device works again. */
	fake_init(&f, ram, 8);
	negotiate(t, V1);
	setup_queue(t, 0, 8);
	wr(t, VIRTIO_MMIO_STATUS, LIVE);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), (uint32_t)LIVE);
	fake_set(&f, 0, FAKE_DATA, 16, VRING_DESC_F_WRITE, 0);
	fake_publish(&f, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(fake_used(&f)->idx, 1);
	virtio_device_free(t);
}

static void test_config_space(void)
{
	struct virtio_mmio *t = live_rng();
	/* rng has no config: reads are zero at any width, writes are dropped. */
	uint64_t v = ~0ULL;
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG, (uint8_t *)&v, 8, false);
	CHECK_EQ(v, 0u);
	t->config_len = 8;
	memcpy(t->config, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	uint16_t h = 0;
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG + 2, (uint8_t *)&h, 2, false);
	CHECK_EQ(h, 0x0403);
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG, (uint8_t *)&v, 8, false);
	CHECK_EQ(v, 0x0807060504030201ULL);
	uint32_t w = ~0u;
	virtio_mmio_access(t, VIRTIO_MMIO_CONFIG + 6, (uint8_t *)&w, 4, false); /* crosses the end */
	CHECK_EQ(w, 0u);
	uint32_t gen = rd(t, VIRTIO_MMIO_CONFIG_GENERATION);
	pthread_mutex_lock(&t->lock);
	virtio_mmio_config_changed(t);
	pthread_mutex_unlock(&t->lock);
	CHECK_EQ(rd(t, VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	CHECK(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	/* Outside the window: ignored. */
	virtio_mmio_access(t, 0x1000, (uint8_t *)&v, 4, false);
	virtio_device_free(t);
}

int main(void)
{
	ram = aligned_alloc(4096, FAKE_MEM);
	if (!ram)
		return 1;
	cap_log_set_level(CAP_LOG_ERROR);
	RUN(test_identity);
	RUN(test_features);
	RUN(test_status_machine);
	RUN(test_bad_ring_needs_reset);
	RUN(test_rng_request);
	RUN(test_malformed_chain_needs_reset);
	RUN(test_config_space);
	free(ram);
	UNIT_EXIT();
}
