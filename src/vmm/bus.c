#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
}

void bus_free(struct bus *b)
{
	free(b->ranges);
	b->ranges = NULL;
	b->n = b->cap = 0;
}

int bus_register(struct bus *b, uint64_t base, uint64_t len, bus_access_fn fn, void *opaque, const char *name)
{
	if (!len || base + len < base)
		return -EINVAL;
	int i = 0;
	while (i < b->n && b->ranges[i].base < base)
		i++;
	if (i > 0 && b->ranges[i - 1].base + b->ranges[i - 1].len > base)
		return -EEXIST;
	if (i < b->n && base + len > b->ranges[i].base)
		return -EEXIST;
	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		struct bus_range *r = realloc(b->ranges, (size_t)cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		b->ranges = r;
		b->cap = cap;
	}
	memmove(&b->ranges[i + 1], &b->ranges[i], (size_t)(b->n - i) * sizeof(*b->ranges));
	b->ranges[i] = (struct bus_range){ base, len, fn, opaque, name, 0 };
	b->n++;
	return 0;
}

bool bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	int lo = 0, hi = b->n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		struct bus_range *r = &b->ranges[mid];
		if (addr < r->base)
			hi = mid - 1;
		else if (addr >= r->base + r->len)
			lo = mid + 1;
		else {
			__atomic_fetch_add(&r->accesses, 1, __ATOMIC_RELAXED);
			r->fn(r->opaque, addr - r->base, data, len, is_write);
			return true;
		}
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}
