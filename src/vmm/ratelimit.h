/* Token-bucket rate limiters for the I/O devices (virtio-blk, virtio-net rx and tx), as
 * Firecracker's: a limiter has a bandwidth bucket (bytes) and an operations bucket, each with a
 * size (tokens when full), a one-time burst (extra tokens at the start, never refilled) and a
 * refill time (from empty to full). The clock is passed in, so the logic is pure and unit-tested;
 * the device arms a timer for rl_wait_ns() when a request does not pass and retries when it
 * fires, never by polling. */
#ifndef CAPSULE_VMM_RATELIMIT_H
#define CAPSULE_VMM_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/error.h"

struct rl_bucket_config {
	uint64_t size;          /* tokens when full; 0: no limit */
	uint64_t one_time_burst;
	uint64_t refill_ms;     /* from empty to full; RL_DEFAULT_REFILL_MS when not given */
};

struct rl_config {
	struct rl_bucket_config bw;   /* bytes */
	struct rl_bucket_config ops;  /* requests (blk) or frames (net) */
};

#define RL_DEFAULT_REFILL_MS 1000
#define RL_MAX_REFILL_MS 3600000ULL     /* an hour */
#define RL_MAX_SIZE (1ULL << 50)         /* a PiB: keeps the refill arithmetic in range */

struct rl_bucket {
	struct rl_bucket_config c;
	int64_t budget;         /* may go below 0: a request larger than what is left is debt */
	uint64_t burst;         /* what is left of the one-time burst */
	uint64_t last_ns;       /* the refill is accounted up to here */
	uint64_t frac;          /* refill not yet a whole token, in token-ns (< refill time in ns) */
};

struct rate_limiter {
	struct rl_bucket bw, ops;
	/* counters for tests and --debug */
	uint64_t throttled;     /* requests refused at least once */
};

/* Both buckets full, their bursts unspent, the refill clock at now_ns. */
void rl_init(struct rate_limiter *rl, const struct rl_config *c, uint64_t now_ns);
bool rl_enabled(const struct rate_limiter *rl);
/* Take 1 operation and `bytes` bytes if both buckets allow (a bucket allows when it holds at
 * least min(tokens, size): a request larger than the bucket passes once it is full and leaves
 * a debt). All or nothing: false leaves the buckets as they were. */
bool rl_consume(struct rate_limiter *rl, uint64_t bytes, uint64_t now_ns);
/* How long from now_ns until rl_consume(rl, bytes) would pass (0: it would now). */
uint64_t rl_wait_ns(struct rate_limiter *rl, uint64_t bytes, uint64_t now_ns);

/* Parse one option value: "N[/T]" where N is a count (ops) or a size with an optional K, M, G
 * suffix (powers of 1024; bytes), and T the refill time ("100ms", "2s"; default 1 s); what
 * names the option in messages ("disk x.img: bw"). */
int rl_parse_rate(const char *what, const char *s, bool bytes, struct rl_bucket_config *out, cap_err *err);
/* A burst value: N (ops) or a size (bytes). */
int rl_parse_burst(const char *what, const char *s, bool bytes, uint64_t *out, cap_err *err);

/* One field of a device option ("bw=10M", "rx-ops=1000/100ms"): the keys are PREFIX "bw",
 * PREFIX "bw-burst", PREFIX OPS and PREFIX OPS "-burst" (OPS: "iops" for disks, "ops" for nets).
 * Returns 1 when the field was one of them (and is stored), 0 when it is not, < 0 on a bad value
 * or a key given twice; what names the device ("disk x.img"). */
int rl_parse_field(const char *what, const char *field, const char *prefix, const char *ops, struct rl_config *c,
		   cap_err *err);
/* After the fields: a burst without its rate is refused. */
int rl_check(const char *what, const char *prefix, const char *ops, const struct rl_config *c, cap_err *err);

#endif
