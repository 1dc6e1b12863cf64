/* guest_mem_ptr is the one checked translation of guest addresses: test its edges. */
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "../../src/vmm/memory.h"

static void test_ptr_bounds(void)
{
	static uint8_t buf[4096];
	struct guest_mem m;
	guest_mem_init_buffer(&m, buf, sizeof(buf));
	CHECK(guest_mem_ptr(&m, 0, 4096) == buf);
	CHECK(guest_mem_ptr(&m, 4095, 1) == buf + 4095);
	CHECK(guest_mem_ptr(&m, 4095, 2) == NULL);
	CHECK(guest_mem_ptr(&m, 4096, 1) == NULL);
	CHECK(guest_mem_ptr(&m, UINT64_MAX, 2) == NULL);
	CHECK(guest_mem_ptr(&m, 1, UINT64_MAX) == NULL);
	CHECK(guest_mem_ptr(&m, 0, 0) == buf);
}

static void test_split_above_hole(void)
{
	struct guest_mem m;
	cap_err err = { 0 };
	uint64_t size = GUEST_MMIO_HOLE_START + (64ULL << 20); /* 3 GiB + 64 MiB, not touched */
	CHECK_EQ(guest_mem_init(&m, size, &err), 0);
	CHECK_EQ(m.nregions, 2);
	CHECK_EQ(guest_mem_low_end(&m), GUEST_MMIO_HOLE_START);
	CHECK(guest_mem_ptr(&m, GUEST_MMIO_HOLE_START, 1) == NULL);
	CHECK(guest_mem_ptr(&m, GUEST_MMIO_HOLE_END, 1) == m.base + GUEST_MMIO_HOLE_START);
	CHECK(guest_mem_ptr(&m, GUEST_MMIO_HOLE_END + (64ULL << 20) - 1, 1) != NULL);
	CHECK(guest_mem_ptr(&m, GUEST_MMIO_HOLE_END + (64ULL << 20), 1) == NULL);
	/* A range crossing the hole is not one region: refused. */
	CHECK(guest_mem_ptr(&m, GUEST_MMIO_HOLE_START - 1, 2) == NULL);
	guest_mem_free(&m);
}

static void test_copy_helpers(void)
{
	static uint8_t buf[64];
	struct guest_mem m;
	guest_mem_init_buffer(&m, buf, sizeof(buf));
	uint32_t v = 0xdeadbeef, r = 0;
	CHECK_EQ(guest_mem_write(&m, 60, &v, 4), 0);
	CHECK_EQ(guest_mem_read(&m, 60, &r, 4), 0);
	CHECK_EQ(r, v);
	CHECK_EQ(guest_mem_write(&m, 61, &v, 4), -14 /* EFAULT */);
}

int main(void)
{
	RUN(test_ptr_bounds);
	RUN(test_split_above_hole);
	RUN(test_copy_helpers);
	UNIT_EXIT();
}
