/* The token buckets of src/vmm/ratelimit.c on a made-up clock: a full bucket passes its size at
 * once, then the configured rate and no more (over a long run, to the token); the one-time burst
 * comes first and never returns; a request larger than the bucket passes once it is full and
 * leaves a debt; rl_wait_ns says exactly when the next request passes; the option parser. */
#include "unit.h"
#include "../../src/vmm/ratelimit.h"

#define MS 1000000ULL
#define S (1000 * MS)

static struct rl_config ops(uint64_t size, uint64_t burst, uint64_t refill_ms)
{
	return (struct rl_config){ .ops = { size, burst, refill_ms } };
}

static void test_unlimited(void)
{
	struct rate_limiter rl;
	struct rl_config none = { 0 };
	rl_init(&rl, &none, 0);
	CHECK(!rl_enabled(&rl));
	for (int i = 0; i < 100000; i++)
		CHECK(rl_consume(&rl, 1 << 20, 0));
	CHECK_EQ(rl_wait_ns(&rl, 1 << 20, 0), 0);
	CHECK_EQ(rl.throttled, 0);
}

static void test_ops_rate(void)
{
	struct rate_limiter rl;
	struct rl_config c = ops(100, 0, 1000); /* 100 ops a second */
	rl_init(&rl, &c, 5 * S);
	CHECK(rl_enabled(&rl));
	int n = 0;
	while (rl_consume(&rl, 0, 5 * S))
		n++;
	CHECK_EQ(n, 100); /* the full bucket */
	CHECK_EQ(rl.throttled, 1);
	CHECK_EQ(rl_wait_ns(&rl, 0, 5 * S), 10 * MS); /* one op's worth of refill */
	CHECK(!rl_consume(&rl, 0, 5 * S + 10 * MS - 1));
	CHECK(rl_consume(&rl, 0, 5 * S + 10 * MS));
	/* Ten seconds of requests as fast as they pass, in 1 ms steps: exactly 1000 more. */
	n = 0;
	for (uint64_t t = 5 * S + 10 * MS; t <= 15 * S + 10 * MS; t += MS)
		while (rl_consume(&rl, 0, t))
			n++;
	CHECK_EQ(n, 1000);
}

static void test_bandwidth_odd_rate(void)
{
	/* 1000 bytes per 7 ms refill, 4096-byte requests with 3 ms steps: rounding never adds up
	 * to more than the rate over a long run. */
	struct rate_limiter rl;
	struct rl_config c = { .bw = { 1000, 0, 7 } };
	rl_init(&rl, &c, 0);
	uint64_t bytes = 0;
	for (uint64_t t = 0; t <= 70 * S; t += 3 * MS)
		while (rl_consume(&rl, 4096, t))
			bytes += 4096;
	uint64_t max = 1000 + 70 * S / (7 * MS) * 1000 + 4096; /* the full bucket, the rate, one debt */
	CHECK(bytes <= max);
	/* Each request waits for 28.7 ms of refill, seen on a 3 ms step: at worst 30 ms. */
	CHECK(bytes >= 70 * S / (30 * MS) * 4096);
}

static void test_burst_first_and_once(void)
{
	struct rate_limiter rl;
	struct rl_config c = ops(10, 50, 1000);
	rl_init(&rl, &c, 0);
	int n = 0;
	while (rl_consume(&rl, 0, 0))
		n++;
	CHECK_EQ(n, 60); /* burst and bucket */
	/* A second later the bucket is full again, the burst is gone. */
	n = 0;
	while (rl_consume(&rl, 0, S))
		n++;
	CHECK_EQ(n, 10);
	n = 0;
	while (rl_consume(&rl, 0, 100 * S))
		n++;
	CHECK_EQ(n, 10); /* a full bucket does not save up */
}

static void test_request_larger_than_bucket(void)
{
	/* 1 MiB a second, 4 MiB requests: each passes once the bucket is full and leaves a 3 MiB
	 * debt, so they go through at one per four seconds, and never wait forever. */
	struct rate_limiter rl;
	struct rl_config c = { .bw = { 1 << 20, 0, 1000 } };
	rl_init(&rl, &c, 0);
	CHECK(rl_consume(&rl, 4 << 20, 0));
	CHECK(!rl_consume(&rl, 4 << 20, 0));
	CHECK_EQ(rl_wait_ns(&rl, 4 << 20, 0), 4 * S);
	CHECK(!rl_consume(&rl, 4 << 20, 4 * S - MS));
	CHECK(rl_consume(&rl, 4 << 20, 4 * S));
}

static void test_both_buckets_all_or_nothing(void)
{
	struct rate_limiter rl;
	struct rl_config c = { .bw = { 1000, 0, 1000 }, .ops = { 5, 0, 1000 } };
	rl_init(&rl, &c, 0);
	CHECK(rl_consume(&rl, 600, 0));
	CHECK(!rl_consume(&rl, 600, 0)); /* bandwidth refuses: the op is not taken either */
	for (int i = 0; i < 4; i++)
		CHECK(rl_consume(&rl, 0, 0));
	CHECK(!rl_consume(&rl, 0, 0)); /* now the ops bucket is empty */
	CHECK_EQ(rl_wait_ns(&rl, 600, 0), 200 * MS); /* max of bandwidth (200 ms) and ops (200 ms) */
	CHECK_EQ(rl_wait_ns(&rl, 900, 0), 500 * MS);
}

static void test_parse(void)
{
	cap_err e = { 0 };
	struct rl_bucket_config b;
	uint64_t v;
	CHECK_EQ(rl_parse_rate("bw", "10M", true, &b, &e), 0);
	CHECK_EQ(b.size, 10ULL << 20);
	CHECK_EQ(b.refill_ms, 1000);
	CHECK_EQ(rl_parse_rate("bw", "1MiB/100ms", true, &b, &e), 0);
	CHECK(b.size == 1ULL << 20 && b.refill_ms == 100);
	CHECK_EQ(rl_parse_rate("iops", "500/2s", false, &b, &e), 0);
	CHECK(b.size == 500 && b.refill_ms == 2000);
	CHECK_EQ(rl_parse_burst("bw-burst", "64k", true, &v, &e), 0);
	CHECK_EQ(v, 64 << 10);
	static const char *bad_bytes[] = { "", "M", "10X", "10M/", "10M/5", "10M/0ms", "10M/3601s", "0", "-1",
					   "2000T", "10M/100msx", "10 M", "99999999999999999999" };
	for (unsigned i = 0; i < sizeof(bad_bytes) / sizeof(bad_bytes[0]); i++) {
		cap_err_clear(&e);
		CHECK(rl_parse_rate("disk x: bw", bad_bytes[i], true, &b, &e) < 0);
		CHECK_EQ(e.exit_code, CAP_EXIT_USAGE);
		CHECK(strstr(e.msg, "disk x: bw") != NULL);
	}
	cap_err_clear(&e);
	CHECK(rl_parse_rate("iops", "10M", false, &b, &e) < 0); /* ops have no unit */
	cap_err_clear(&e);
	CHECK(rl_parse_burst("iops-burst", "5/1s", false, &v, &e) < 0);
}

int main(void)
{
	RUN(test_unlimited);
	RUN(test_ops_rate);
	RUN(test_bandwidth_odd_rate);
	RUN(test_burst_first_and_once);
	RUN(test_request_larger_than_bucket);
	RUN(test_both_buckets_all_or_nothing);
	RUN(test_parse);
	UNIT_EXIT();
}
