// fuzz-sources: src/vmm/ratelimit.c src/lib/error.c src/lib/log.c
/* libFuzzer target: the rate-limit option parser (--disk/--net fields) and the token buckets it
 * configures. Input: up to four text lines, each one field ("bw=1M/10ms", "iops-burst=5"), then
 * 12-byte steps (8 bytes of clock advance, 4 of request size). Checked on every step: a bucket
 * never holds more than its size, rl_wait_ns() is 0 exactly when rl_consume() would pass, and
 * after waiting what rl_wait_ns() said, the request passes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/vmm/ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_config c = { 0 };
	size_t off = 0;
	for (int line = 0; line < 4 && off < size; line++) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
		char field[128];
		if (len >= sizeof(field))
			len = sizeof(field) - 1;
		memcpy(field, data + off, len);
		field[len] = 0;
		off += len + (nl ? 1 : 0);
		cap_err err = { 0 };
		if (rl_parse_field("fuzz", field, "", "iops", &c, &err) < 0 && !err.set)
			abort(); /* a failure always says why */
	}
	cap_err err = { 0 };
	if (rl_check("fuzz", "", "iops", &c, &err) < 0)
		return 0;
	if (c.bw.size > RL_MAX_SIZE || c.ops.size > RL_MAX_SIZE || (c.bw.size && c.bw.refill_ms > RL_MAX_REFILL_MS))
		abort();

	struct rate_limiter rl;
	uint64_t now = 1;
	rl_init(&rl, &c, now);
	while (size - off >= 12) {
		uint64_t dt;
		uint32_t bytes;
		memcpy(&dt, data + off, 8);
		memcpy(&bytes, data + off + 8, 4);
		off += 12;
		now += dt % (10ULL * 1000000000ULL); /* at most 10 s a step */
		bytes %= 1U << 24;
		uint64_t w = rl_wait_ns(&rl, bytes, now);
		struct rate_limiter probe = rl;
		bool ok = rl_consume(&probe, bytes, now);
		if (ok != (w == 0))
			abort();
		if (!ok) {
			probe = rl;
			if (!rl_consume(&probe, bytes, now + w))
				abort(); /* waited as told, still refused */
		}
		if (rl_consume(&rl, bytes, now) != ok)
			abort();
		if ((rl.bw.c.size && rl.bw.budget > (int64_t)rl.bw.c.size) ||
		    (rl.ops.c.size && rl.ops.budget > (int64_t)rl.ops.c.size))
			abort();
	}
	return 0;
}
