/* Token buckets (ratelimit.h). Refills are computed from the clock when a bucket is used, in
 * 128-bit arithmetic, keeping the part of a token not yet credited (frac), so that rounding
 * never credits more or less than the configured rate however often a bucket is used. */
#include "ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef unsigned __int128 u128;

static uint64_t refill_ns(const struct rl_bucket *b)
{
	return b->c.refill_ms * 1000000ULL;
}

static void bucket_init(struct rl_bucket *b, const struct rl_bucket_config *c, uint64_t now)
{
	memset(b, 0, sizeof(*b));
	b->c = *c;
	if (b->c.size && !b->c.refill_ms)
		b->c.refill_ms = RL_DEFAULT_REFILL_MS;
	b->budget = (int64_t)b->c.size;
	b->burst = b->c.one_time_burst;
	b->last_ns = now;
}

static void refill(struct rl_bucket *b, uint64_t now)
{
	int64_t size = (int64_t)b->c.size;
	if (!size || now <= b->last_ns)
		return;
	uint64_t elapsed = now - b->last_ns, full = refill_ns(b);
	if (b->budget >= size) {
		b->last_ns = now;	/* a full bucket does not save up */
		b->frac = 0;
		return;
	}
	u128 acc = (u128)elapsed * (uint64_t)size + b->frac;
	u128 add = acc / full;
	b->last_ns = now;
	if (add >= (u128)(size - b->budget)) {	/* budget < size, so this is > 0 */
		b->budget = size;
		b->frac = 0;
		return;
	}
	b->budget += (int64_t)add;
	b->frac = (uint64_t)(acc % full);	/* exact: no rounding adds up over time */
}

/* The tokens the budget must hold for `tokens` to pass, after the burst is used. */
static int64_t needed(const struct rl_bucket *b, uint64_t tokens)
{
	if (b->burst >= tokens)
		return INT64_MIN;
	uint64_t rest = tokens - b->burst;
	return (int64_t)(rest < b->c.size ? rest : b->c.size);
}

static bool allows(const struct rl_bucket *b, uint64_t tokens)
{
	return !b->c.size || b->budget >= needed(b, tokens);
}

static void take(struct rl_bucket *b, uint64_t tokens)
{
	if (!b->c.size)
		return;
	uint64_t from_burst = b->burst < tokens ? b->burst : tokens;
	b->burst -= from_burst;
	tokens -= from_burst;
	/* tokens <= RL_MAX_SIZE-bounded callers: a request is at most a few MiB */
	b->budget -= (int64_t)tokens;
}

static uint64_t bucket_wait(struct rl_bucket *b, uint64_t tokens)
{
	if (allows(b, tokens))
		return 0;
	u128 deficit = (u128)(uint64_t)(needed(b, tokens) - b->budget) * refill_ns(b) - b->frac;
	return (uint64_t)((deficit + b->c.size - 1) / b->c.size);
}

void rl_init(struct rate_limiter *rl, const struct rl_config *c, uint64_t now_ns)
{
	memset(rl, 0, sizeof(*rl));
	bucket_init(&rl->bw, &c->bw, now_ns);
	bucket_init(&rl->ops, &c->ops, now_ns);
}

bool rl_enabled(const struct rate_limiter *rl)
{
	return rl->bw.c.size || rl->ops.c.size;
}

bool rl_consume(struct rate_limiter *rl, uint64_t bytes, uint64_t now_ns)
{
	refill(&rl->bw, now_ns);
	refill(&rl->ops, now_ns);
	if (!allows(&rl->bw, bytes) || !allows(&rl->ops, 1)) {
		rl->throttled++;
		return false;
	}
	take(&rl->bw, bytes);
	take(&rl->ops, 1);
	return true;
}

uint64_t rl_wait_ns(struct rate_limiter *rl, uint64_t bytes, uint64_t now_ns)
{
	refill(&rl->bw, now_ns);
	refill(&rl->ops, now_ns);
	uint64_t a = bucket_wait(&rl->bw, bytes), b = bucket_wait(&rl->ops, 1);
	return a > b ? a : b;
}

/* Digits, then (bytes only) an optional K, M, G or T with an optional "i", "iB" or "B". */
static int parse_amount(const char *s, const char **end, bool bytes, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (RL_MAX_SIZE - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (bytes && *p && *p != '/') {
		static const char units[] = "kmgt";
		const char *u = strchr(units, *p | 0x20);
		if (!u || !*p)
			return -EINVAL;
		int shift = 10 * (int)(u - units + 1);
		p++;
		if (!strncasecmp(p, "ib", 2))
			p += 2;
		else if (*p == 'i' || *p == 'I' || *p == 'b' || *p == 'B')
			p++;
		if (v > RL_MAX_SIZE >> shift)
			return -ERANGE;
		v <<= shift;
	}
	*end = p;
	*out = v;
	return 0;
}

int rl_parse_rate(const char *what, const char *s, bool bytes, struct rl_bucket_config *out, cap_err *err)
{
	const char *p;
	uint64_t n, ms = RL_DEFAULT_REFILL_MS;
	int r = parse_amount(s, &p, bytes, &n);
	if (r == -ERANGE)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s '%.80s': too large (at most 2^50)", what, s);
	if (r < 0 || (*p && *p != '/'))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s '%.80s': want %s[/TIME] (e.g. %s)", what, s,
				     bytes ? "SIZE" : "N", bytes ? "10M or 1M/100ms" : "1000 or 100/100ms");
	if (!n)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s '%.80s': the rate must be at least 1 (leave it out for no limit)",
				     what, s);
	if (*p == '/') {
		const char *t = p + 1;
		uint64_t v = 0;
		for (p = t; *p >= '0' && *p <= '9' && v <= RL_MAX_REFILL_MS; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		if (p == t || (strcmp(p, "ms") && strcmp(p, "s")))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s '%.80s': the refill time must be like 100ms or 2s", what, s);
		if (!strcmp(p, "s"))
			v = v > RL_MAX_REFILL_MS ? v : v * 1000;
		if (v < 1 || v > RL_MAX_REFILL_MS)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s '%.80s': the refill time must be 1ms to 3600s", what, s);
		ms = v;
	}
	out->size = n;
	out->refill_ms = ms;
	return 0;
}

int rl_parse_burst(const char *what, const char *s, bool bytes, uint64_t *out, cap_err *err)
{
	const char *p;
	uint64_t n;
	int r = parse_amount(s, &p, bytes, &n);
	if (r == -ERANGE)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s '%.80s': too large (at most 2^50)", what, s);
	if (r < 0 || *p)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s '%.80s': want %s", what, s, bytes ? "a size (e.g. 64M)" : "a count");
	*out = n;
	return 0;
}

int rl_parse_field(const char *what, const char *field, const char *prefix, const char *ops, struct rl_config *c,
		   cap_err *err)
{
	size_t pl = strlen(prefix);
	if (strncmp(field, prefix, pl))
		return 0;
	const char *k = field + pl, *eq = strchr(k, '=');
	if (!eq)
		return 0;
	size_t kl = (size_t)(eq - k), ol = strlen(ops);
	bool bytes;
	bool burst;
	if (kl == 2 && !strncmp(k, "bw", 2))
		bytes = true, burst = false;
	else if (kl == 8 && !strncmp(k, "bw-burst", 8))
		bytes = true, burst = true;
	else if (kl == ol && !strncmp(k, ops, ol))
		bytes = false, burst = false;
	else if (kl == ol + 6 && !strncmp(k, ops, ol) && !strncmp(k + ol, "-burst", 6))
		bytes = false, burst = true;
	else
		return 0;
	struct rl_bucket_config *b = bytes ? &c->bw : &c->ops;
	char name[160];
	snprintf(name, sizeof(name), "%.80s: %.*s", what, (int)(eq - field), field);
	if (burst ? b->one_time_burst != 0 : b->size != 0)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s given twice", name);
	int r = burst ? rl_parse_burst(name, eq + 1, bytes, &b->one_time_burst, err)
		      : rl_parse_rate(name, eq + 1, bytes, b, err);
	return r < 0 ? r : 1;
}

int rl_check(const char *what, const char *prefix, const char *ops, const struct rl_config *c, cap_err *err)
{
	if (c->bw.one_time_burst && !c->bw.size)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%.80s: %sbw-burst needs %sbw (the rate it starts ahead of)", what,
				     prefix, prefix);
	if (c->ops.one_time_burst && !c->ops.size)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%.80s: %s%s-burst needs %s%s (the rate it starts ahead of)",
				     what, prefix, ops, prefix, ops);
	return 0;
}
