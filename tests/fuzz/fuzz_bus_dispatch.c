// fuzz-sources: src/vmm/bus.c
/* libFuzzer target: the port-I/O / MMIO bus itself. The input registers ranges at
 * fuzzer-chosen bases and lengths (up against 0 and 2^64 too) and dispatches accesses of 1, 2,
 * 4 or 8 bytes at fuzzer-chosen addresses; both are checked against a plain list of the ranges:
 * a registration is refused exactly when the range is empty, wraps or overlaps one already
 * there, and an access reaches exactly the range holding its address, at the right offset,
 * with the caller's buffer and length, or is unclaimed and reads all-ones.
 *
 * Input: a sequence of ops, each a byte then its operands:
 *   op & 1 == 0  register: base (8 bytes LE; op bit 1: only 2 bytes, near 0), len (op bit 2:
 *                8 bytes, else 1 byte)
 *   op & 1 == 1  access: address (8 bytes LE; op bit 1: 2 bytes), size 1 << ((op >> 2) & 3),
 *                write when op bit 4 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/vmm/bus.h"

#define MAX_RANGES 64

struct ref_range {
	uint64_t base, len;
};

static struct ref_range ref[MAX_RANGES];
static int nref;

/* What the last dispatch delivered. */
static struct {
	int calls;
	intptr_t id;
	uint64_t offset;
	uint8_t *data;
	uint32_t len;
	bool is_write;
} seen;

static __attribute__((noreturn)) void fail(const char *what)
{
	fprintf(stderr, "fuzz_bus_dispatch: %s\n", what);
	abort();
}

static void record(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	seen.calls++;
	seen.id = (intptr_t)opaque;
	seen.offset = offset;
	seen.data = data;
	seen.len = len;
	seen.is_write = is_write;
	if (!is_write)
		memset(data, 0x5a, len);
}

static uint64_t take(const uint8_t **p, size_t *n, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes && *n; i++, (*n)--)
		v |= (uint64_t)*(*p)++ << (8 * i);
	return v;
}

static int ref_register(uint64_t base, uint64_t len)
{
	if (!len || base + len < base)
		return -EINVAL;
	for (int i = 0; i < nref; i++)
		if (base < ref[i].base + ref[i].len && ref[i].base < base + len)
			return -EEXIST;
	return 0;
}

static int ref_find(uint64_t addr)
{
	for (int i = 0; i < nref; i++)
		if (addr >= ref[i].base && addr - ref[i].base < ref[i].len)
			return i;
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	struct bus b;
	bus_init(&b, "fuzz");
	nref = 0;

	while (n) {
		uint8_t op = *p++;
		n--;
		if (!(op & 1)) {
			uint64_t base = take(&p, &n, op & 2 ? 2 : 8);
			uint64_t len = take(&p, &n, op & 4 ? 8 : 1);
			if (nref == MAX_RANGES)
				continue;
			int want = ref_register(base, len);
			int got = bus_register(&b, base, len, record, (void *)(intptr_t)nref, "range");
			if (got == -ENOMEM)
				fail("out of memory");
			if (got != want) {
				fprintf(stderr, "register 0x%llx+0x%llx: %d, expected %d\n", (unsigned long long)base,
					(unsigned long long)len, got, want);
				fail("registration disagrees with the reference");
			}
			if (got == 0)
				ref[nref++] = (struct ref_range){ base, len };
			continue;
		}
		uint64_t addr = take(&p, &n, op & 2 ? 2 : 8);
		uint32_t size = 1u << ((op >> 2) & 3);
		bool is_write = op & 0x10;
		uint8_t data[8];
		memset(data, 0x11, sizeof(data));
		seen.calls = 0;
		bool claimed = bus_access(&b, addr, data, size, is_write);
		int want = ref_find(addr);
		if (claimed != (want >= 0))
			fail(claimed ? "an address outside every range is claimed" : "an address inside a range is unclaimed");
		if (want >= 0) {
			if (seen.calls != 1 || seen.id != want || seen.offset != addr - ref[want].base ||
			    seen.data != data || seen.len != size || seen.is_write != is_write)
				fail("the access reached the wrong range, offset, buffer or length");
		} else {
			if (seen.calls)
				fail("an unclaimed access called a device");
			for (uint32_t i = 0; i < sizeof(data); i++)
				if (data[i] != (i < size && !is_write ? 0xff : 0x11))
					fail("an unclaimed access wrote the wrong bytes");
		}
	}
	bus_free(&b);
	return 0;
}
