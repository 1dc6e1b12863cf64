/* The split-virtqueue walker against a fake guest memory: good chains, indirect tables,
 * EVENT_IDX, and every malformed-chain case the transport turns into NEEDS_RESET. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "../../src/lib/log.h"
#include "test_virtio_fake.h"

static uint8_t *ram;
static struct fake f;
static struct virtq q;
static struct virtq_chain *c;

static void setup(uint16_t num, bool indirect, bool event_idx)
{
	fake_init(&f, ram, num);
	fake_queue(&f, &q);
	q.indirect = indirect;
	q.event_idx = event_idx;
	CHECK_EQ(virtq_enable(&q), 0);
}

static void test_simple_chain(void)
{
	setup(8, false, false);
	CHECK_EQ(virtq_pop(&q, c), 0);
	fake_set(&f, 0, FAKE_DATA, 16, VRING_DESC_F_NEXT, 1);
	fake_set(&f, 1, FAKE_DATA + 16, 100, VRING_DESC_F_NEXT, 2);
	fake_set(&f, 2, FAKE_DATA + 200, 1, VRING_DESC_F_WRITE, 0);
	fake_publish(&f, 0);
	CHECK(virtq_has_work(&q));
	CHECK_EQ(virtq_pop(&q, c), 1);
	CHECK_EQ(c->head, 0);
	CHECK_EQ(c->nout, 2u);
	CHECK_EQ(c->nin, 1u);
	CHECK_EQ(c->out_len, 116u);
	CHECK_EQ(c->in_len, 1u);
	CHECK(c->out[0].iov_base == ram + FAKE_DATA);
	CHECK(c->in[0].iov_base == ram + FAKE_DATA + 200);
	CHECK_EQ(virtq_pop(&q, c), 0);
	CHECK(!virtq_has_work(&q));
	virtq_push(&q, 0, 1);
	CHECK_EQ(fake_used(&f)->idx, 1);
	CHECK_EQ(fake_used(&f)->ring[0].id, 0u);
	CHECK_EQ(fake_used(&f)->ring[0].len, 1u);
	CHECK(virtq_should_notify(&q));
	fake_avail(&f)->flags = VRING_AVAIL_F_NO_INTERRUPT;
	virtq_push(&q, 0, 1);
	CHECK(!virtq_should_notify(&q));
}

static void test_wraparound(void)
{
	setup(4, false, false);
	/* Start both indices just before the 16-bit wrap. */
	q.last_avail = q.used_idx = 65533;
	f.avail_idx = 65533;
	fake_used(&f)->idx = 65533;
	for (int i = 0; i < 10; i++) {
		uint16_t d = (uint16_t)(i % 4);
		fake_set(&f, d, FAKE_DATA + 64u * d, 8, VRING_DESC_F_WRITE, 0);
		fake_publish(&f, d);
		CHECK_EQ(virtq_pop(&q, c), 1);
		CHECK_EQ(c->head, d);
		virtq_push(&q, d, 8);
	}
	CHECK_EQ(fake_used(&f)->idx, (uint16_t)(65533 + 10));
	CHECK(!q.broken);
}

static void test_indirect(void)
{
	setup(8, true, false);
	uint64_t table = 0x8000;
	*fake_desc(&f, table, 0) = (struct vring_desc){ FAKE_DATA, 16, VRING_DESC_F_NEXT, 2 };
	*fake_desc(&f, table, 2) = (struct vring_desc){ FAKE_DATA + 16, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1 };
	*fake_desc(&f, table, 1) = (struct vring_desc){ FAKE_DATA + 600, 1, VRING_DESC_F_WRITE, 0 };
	fake_set(&f, 3, table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	fake_publish(&f, 3);
	CHECK_EQ(virtq_pop(&q, c), 1);
	CHECK_EQ(c->head, 3);
	CHECK_EQ(c->nout, 1u);
	CHECK_EQ(c->nin, 2u);
	CHECK_EQ(c->in_len, 513u);
	CHECK(c->in[1].iov_base == ram + FAKE_DATA + 600);
}

/* Publish head and expect the walker to refuse it with err and break the queue for good. */
static void expect_broken(uint16_t head, int err)
{
	fake_publish(&f, head);
	CHECK_EQ(virtq_pop(&q, c), err);
	CHECK(q.broken);
	/* A broken queue does nothing more, even with work pending. */
	fake_set(&f, 7, FAKE_DATA, 1, 0, 0);
	fake_publish(&f, 7);
	CHECK_EQ(virtq_pop(&q, c), 0);
	CHECK(!virtq_has_work(&q));
}

static void test_loop(void)
{
	setup(8, false, false);
	fake_set(&f, 0, FAKE_DATA, 1, VRING_DESC_F_NEXT, 1);
	fake_set(&f, 1, FAKE_DATA, 1, VRING_DESC_F_NEXT, 0);
	expect_broken(0, -ELOOP);
}

static void test_self_loop(void)
{
	setup(8, false, false);
	fake_set(&f, 5, FAKE_DATA, 1, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 5);
	expect_broken(5, -ELOOP);
}

static void test_chain_longer_than_queue(void)
{
	/* Every descriptor used once, then back to the start: num+1 links. */
	setup(4, false, false);
	for (uint16_t i = 0; i < 4; i++)
		fake_set(&f, i, FAKE_DATA, 1, VRING_DESC_F_NEXT, (uint16_t)((i + 1) % 4));
	expect_broken(0, -ELOOP);
}

static void test_indirect_loop(void)
{
	setup(8, true, false);
	uint64_t table = 0x8000;
	*fake_desc(&f, table, 0) = (struct vring_desc){ FAKE_DATA, 1, VRING_DESC_F_NEXT, 1 };
	*fake_desc(&f, table, 1) = (struct vring_desc){ FAKE_DATA, 1, VRING_DESC_F_NEXT, 0 };
	fake_set(&f, 0, table, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken(0, -ELOOP);
}

static void test_indirect_not_negotiated(void)
{
	setup(8, false, false);
	*fake_desc(&f, 0x8000, 0) = (struct vring_desc){ FAKE_DATA, 1, 0, 0 };
	fake_set(&f, 0, 0x8000, 16, VRING_DESC_F_INDIRECT, 0);
	expect_broken(0, -EINVAL);
}

static void test_nested_indirect(void)
{
	setup(8, true, false);
	*fake_desc(&f, 0x8000, 0) = (struct vring_desc){ 0x9000, 16, VRING_DESC_F_INDIRECT, 0 };
	*fake_desc(&f, 0x9000, 0) = (struct vring_desc){ FAKE_DATA, 1, 0, 0 };
	fake_set(&f, 0, 0x8000, 16, VRING_DESC_F_INDIRECT, 0);
	expect_broken(0, -EINVAL);
}

static void test_indirect_with_next(void)
{
	setup(8, true, false);
	*fake_desc(&f, 0x8000, 0) = (struct vring_desc){ FAKE_DATA, 1, 0, 0 };
	fake_set(&f, 0, 0x8000, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	fake_set(&f, 1, FAKE_DATA, 1, 0, 0);
	expect_broken(0, -EINVAL);
}

static void test_indirect_bad_len(void)
{
	uint32_t lens[] = { 0, 15, 17, (VIRTQ_MAX_SEGS + 1) * 16 };
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		setup(8, true, false);
		fake_set(&f, 0, 0x8000, lens[i], VRING_DESC_F_INDIRECT, 0);
		expect_broken(0, -EINVAL);
	}
}

static void test_indirect_table_outside(void)
{
	setup(8, true, false);
	fake_set(&f, 0, FAKE_MEM - 16, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken(0, -EFAULT);
}

static void test_buffer_outside(void)
{
	uint64_t addrs[] = { FAKE_MEM, FAKE_MEM - 1, UINT64_MAX - 2, 0xC0000000ULL };
	uint32_t lens[] = { 1, 2, 8, 1 };
	for (unsigned i = 0; i < 4; i++) {
		setup(8, false, false);
		fake_set(&f, 0, addrs[i], lens[i], VRING_DESC_F_WRITE, 0);
		expect_broken(0, -EFAULT);
	}
	/* Inside an indirect table too. */
	setup(8, true, false);
	*fake_desc(&f, 0x8000, 0) = (struct vring_desc){ FAKE_DATA, 1, VRING_DESC_F_NEXT, 1 };
	*fake_desc(&f, 0x8000, 1) = (struct vring_desc){ FAKE_MEM - 4, 0x1000, VRING_DESC_F_WRITE, 0 };
	fake_set(&f, 0, 0x8000, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken(0, -EFAULT);
}

static void test_readable_after_writable(void)
{
	setup(8, false, false);
	fake_set(&f, 0, FAKE_DATA, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	fake_set(&f, 1, FAKE_DATA + 16, 16, 0, 0);
	expect_broken(0, -EINVAL);
}

static void test_next_out_of_range(void)
{
	setup(8, false, false);
	fake_set(&f, 0, FAKE_DATA, 16, VRING_DESC_F_NEXT, 8);
	expect_broken(0, -EINVAL);
	/* In an indirect table the bound is the table's own size. */
	setup(8, true, false);
	*fake_desc(&f, 0x8000, 0) = (struct vring_desc){ FAKE_DATA, 1, VRING_DESC_F_NEXT, 2 };
	*fake_desc(&f, 0x8000, 1) = (struct vring_desc){ FAKE_DATA, 1, 0, 0 };
	fake_set(&f, 0, 0x8000, 32, VRING_DESC_F_INDIRECT, 0);
	expect_broken(0, -EINVAL);
}

static void test_head_out_of_range(void)
{
	setup(8, false, false);
	expect_broken(9, -EINVAL);
}

static void test_avail_runs_ahead(void)
{
	setup(8, false, false);
	fake_set(&f, 0, FAKE_DATA, 1, 0, 0);
	fake_avail(&f)->idx = 9; /* 9 > num chains published */
	CHECK(virtq_pop(&q, c) < 0);
	CHECK(q.broken);
}

static void test_max_segments(void)
{
	/* The largest indirect table accepted fills the chain's segment arrays exactly. */
	setup(256, true, false);
	uint64_t table = 0x20000;
	for (unsigned i = 0; i < VIRTQ_MAX_SEGS; i++)
		*fake_desc(&f, table, i) = (struct vring_desc){ FAKE_DATA, 4, VRING_DESC_F_NEXT, (uint16_t)(i + 1) };
	fake_desc(&f, table, VIRTQ_MAX_SEGS - 1)->flags = 0;
	fake_set(&f, 0, table, VIRTQ_MAX_SEGS * 16, VRING_DESC_F_INDIRECT, 0);
	fake_publish(&f, 0);
	CHECK_EQ(virtq_pop(&q, c), 1);
	CHECK_EQ(c->nout, (unsigned)VIRTQ_MAX_SEGS);
}

static void test_enable_checks(void)
{
	fake_init(&f, ram, 8);
	fake_queue(&f, &q);
	q.num = 0;
	CHECK(virtq_enable(&q) < 0);
	q.num = 6; /* not a power of two */
	CHECK(virtq_enable(&q) < 0);
	q.num = 512; /* above QueueNumMax */
	CHECK(virtq_enable(&q) < 0);
	q.num = 8;
	q.desc_gpa = FAKE_DESC + 8; /* misaligned */
	CHECK(virtq_enable(&q) < 0);
	q.desc_gpa = FAKE_DESC;
	q.avail_gpa = FAKE_AVAIL + 1;
	CHECK(virtq_enable(&q) < 0);
	q.avail_gpa = FAKE_AVAIL;
	q.used_gpa = FAKE_USED + 2;
	CHECK(virtq_enable(&q) < 0);
	q.used_gpa = FAKE_MEM - 8; /* ring runs past RAM */
	CHECK_EQ(virtq_enable(&q), -EFAULT);
	CHECK(!q.ready);
	q.used_gpa = FAKE_USED;
	CHECK_EQ(virtq_enable(&q), 0);
	CHECK(q.ready);
}

static void test_event_idx(void)
{
	setup(8, false, true);
	/* Idle pop publishes avail_event = next index wanted. */
	CHECK_EQ(virtq_pop(&q, c), 0);
	CHECK_EQ(*fake_avail_event(&f), 0);
	for (int i = 0; i < 3; i++) {
		fake_set(&f, (uint16_t)i, FAKE_DATA, 4, VRING_DESC_F_WRITE, 0);
		fake_publish(&f, (uint16_t)i);
	}
	for (int i = 0; i < 3; i++)
		CHECK_EQ(virtq_pop(&q, c), 1);
	CHECK_EQ(virtq_pop(&q, c), 0);
	CHECK_EQ(*fake_avail_event(&f), 3);
	/* First signal always goes out. */
	virtq_push(&q, 0, 4);
	CHECK(virtq_should_notify(&q));
	/* The driver wants an interrupt only once used idx passes 2 (used_event = 2). */
	*fake_used_event(&f) = 2;
	virtq_push(&q, 1, 4);		/* used idx 2: event 2 not crossed yet (needs new > 2) */
	CHECK(!virtq_should_notify(&q));
	virtq_push(&q, 2, 4);		/* used idx 3: crossed */
	CHECK(virtq_should_notify(&q));
	CHECK(!virtq_should_notify(&q)); /* nothing new */
}

static void test_iov_helpers(void)
{
	uint8_t a[3], b[5], out[8];
	struct iovec iov[2] = { { a, 3 }, { b, 5 } };
	const uint8_t src[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	CHECK_EQ(iov_from_buf(iov, 2, 0, src, 8), 8u);
	CHECK_EQ(a[2], 3);
	CHECK_EQ(b[0], 4);
	CHECK_EQ(iov_to_buf(iov, 2, 2, out, 8), 6u);
	CHECK_EQ(out[0], 3);
	CHECK_EQ(out[5], 8);
	CHECK_EQ(iov_to_buf(iov, 2, 9, out, 8), 0u);
}

int main(void)
{
	ram = aligned_alloc(4096, FAKE_MEM);
	c = malloc(sizeof(*c));
	if (!ram || !c)
		return 1;
	cap_log_set_level(CAP_LOG_ERROR); /* the malformed chains below each log a warning */
	RUN(test_simple_chain);
	RUN(test_wraparound);
	RUN(test_indirect);
	RUN(test_loop);
	RUN(test_self_loop);
	RUN(test_chain_longer_than_queue);
	RUN(test_indirect_loop);
	RUN(test_indirect_not_negotiated);
	RUN(test_nested_indirect);
	RUN(test_indirect_with_next);
	RUN(test_indirect_bad_len);
	RUN(test_indirect_table_outside);
	RUN(test_buffer_outside);
	RUN(test_readable_after_writable);
	RUN(test_next_out_of_range);
	RUN(test_head_out_of_range);
	RUN(test_avail_runs_ahead);
	RUN(test_max_segments);
	RUN(test_enable_checks);
	RUN(test_event_idx);
	RUN(test_iov_helpers);
	free(c);
	free(ram);
	UNIT_EXIT();
}
