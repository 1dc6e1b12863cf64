/* Firecracker's RateLimiter object, {"bandwidth": BUCKET, "ops": BUCKET} with BUCKET
 * {"size": N, "one_time_burst": N, "refill_time": MS}, onto ratelimit.h's rl_config. Checked
 * as strictly as the CLI's bw=/iops= options (ratelimit.c): a size of 0 is "no limit" (what
 * Firecracker does with it), but a limit that cannot refill (refill_time 0), a burst without a
 * rate and values past the limiter's arithmetic range are refused, each naming its field. */
#include <stdio.h>
#include <string.h>

#include "router.h"

static int get_u64(json_t *b, const char *path, const char *key, uint64_t max, bool need, uint64_t *out,
		   struct api_response *resp)
{
	json_t *v = json_object_get(b, key);
	if (!v || json_is_null(v)) {
		if (need)
			api_fault(resp, 400, "%s.%s: missing (an integer is required)", path, key);
		return need ? -1 : 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		api_fault(resp, 400, "%s.%s: must be a non-negative integer", path, key);
		return -1;
	}
	if ((uint64_t)json_integer_value(v) > max) {
		api_fault(resp, 400, "%s.%s %lld: at most %llu", path, key, (long long)json_integer_value(v),
			  (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 1;
}

/* Every key of o among allowed (NULL-terminated), else a 400 naming path.key. */
static int only_keys(json_t *o, const char *path, const char *const *allowed, struct api_response *resp)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		size_t k = 0;
		while (allowed[k] && strcmp(allowed[k], key))
			k++;
		if (!allowed[k]) {
			api_fault(resp, 400, "%s: unknown field '%.80s'", path, key);
			return -1;
		}
	}
	return 0;
}

/* One TokenBucket at o[key]: 0 absent (or null), 1 read into out, -1 fault. */
static int get_bucket(json_t *o, const char *path, const char *key, struct rl_bucket_config *out,
		      struct api_response *resp)
{
	static const char *const fields[] = { "size", "one_time_burst", "refill_time", NULL };
	char name[96];
	json_t *b = json_object_get(o, key);
	if (!b || json_is_null(b))
		return 0;
	snprintf(name, sizeof(name), "%s.%s", path, key);
	if (!json_is_object(b)) {
		api_fault(resp, 400, "%s: must be an object (size, one_time_burst, refill_time)", name);
		return -1;
	}
	struct rl_bucket_config c = { 0 };
	if (only_keys(b, name, fields, resp) < 0 || get_u64(b, name, "size", RL_MAX_SIZE, true, &c.size, resp) < 0 ||
	    get_u64(b, name, "refill_time", RL_MAX_REFILL_MS, true, &c.refill_ms, resp) < 0 ||
	    get_u64(b, name, "one_time_burst", RL_MAX_SIZE, false, &c.one_time_burst, resp) < 0)
		return -1;
	if (c.size && !c.refill_ms) {
		api_fault(resp, 400, "%s.refill_time: 0 with a size of %llu: a bucket that never refills (1 to %llu ms)",
			  name, (unsigned long long)c.size, RL_MAX_REFILL_MS);
		return -1;
	}
	if (!c.size && c.one_time_burst) {
		api_fault(resp, 400, "%s.one_time_burst: needs a size (the rate it starts ahead of)", name);
		return -1;
	}
	if (!c.size)
		c.refill_ms = 0; /* no limit */
	*out = c;
	return 1;
}

int api_get_rate_limiter(json_t *o, const char *key, struct api_rate_limiter *out, struct api_response *resp)
{
	static const char *const fields[] = { "bandwidth", "ops", NULL };
	memset(out, 0, sizeof(*out));
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		api_fault(resp, 400, "%s: must be an object (bandwidth, ops)", key);
		return -1;
	}
	int b, p;
	if (only_keys(v, key, fields, resp) < 0 || (b = get_bucket(v, key, "bandwidth", &out->c.bw, resp)) < 0 ||
	    (p = get_bucket(v, key, "ops", &out->c.ops, resp)) < 0)
		return -1;
	out->has_bw = b > 0;
	out->has_ops = p > 0;
	return 1;
}

void api_rate_limiter_apply(const struct api_rate_limiter *rl, struct rl_config *c)
{
	if (rl->has_bw)
		c->bw = rl->c.bw;
	if (rl->has_ops)
		c->ops = rl->c.ops;
}

static json_t *bucket_json(const struct rl_bucket_config *b)
{
	return json_pack("{s:I, s:I, s:I}", "size", (json_int_t)b->size, "one_time_burst", (json_int_t)b->one_time_burst,
			 "refill_time", (json_int_t)(b->refill_ms ? b->refill_ms : RL_DEFAULT_REFILL_MS));
}

json_t *api_rate_limiter_json(const struct rl_config *c)
{
	if (!c->bw.size && !c->ops.size)
		return json_null();
	json_t *o = json_object();
	if (c->bw.size)
		json_object_set_new(o, "bandwidth", bucket_json(&c->bw));
	if (c->ops.size)
		json_object_set_new(o, "ops", bucket_json(&c->ops));
	return o;
}
