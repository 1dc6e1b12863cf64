/* vmstate: fields round-trip by name in any order, a missing field is -ENOENT, a wrong type or a
 * malformed stream -EINVAL, and no truncation or hostile length makes the reader read past its
 * buffer (every prefix of a valid stream and every single-byte corruption is tried). */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "../../src/vmm/vmstate.h"

static void write_sample(struct vmstate_out *o)
{
	vmstate_out_init(o);
	CHECK_EQ(vmstate_begin(o, "serial", 1), 0);
	CHECK_EQ(vmstate_put_u8(o, "ier", 0x0f), 0);
	CHECK_EQ(vmstate_put_u16(o, "w", 0xbeef), 0);
	CHECK_EQ(vmstate_put_u32(o, "l", 0xdeadbeef), 0);
	CHECK_EQ(vmstate_put_u64(o, "q", 0x0123456789abcdefULL), 0);
	CHECK_EQ(vmstate_put_bool(o, "b", true), 0);
	CHECK_EQ(vmstate_put_bytes(o, "fifo", "hello", 5), 0);
	CHECK_EQ(vmstate_put_bytes(o, "empty", NULL, 0), 0);
	CHECK_EQ(vmstate_end(o), 0);
	CHECK_EQ(vmstate_begin(o, "i8042", 7), 0);
	CHECK_EQ(vmstate_put_u8(o, "ctr", 0x45), 0);
	CHECK_EQ(vmstate_end(o), 0);
}

static void test_round_trip(void)
{
	struct vmstate_out o;
	struct vmstate_in in;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32, ver;
	uint64_t u64;
	bool b;
	char buf[16] = { 0 };
	size_t n;

	write_sample(&o);
	vmstate_in_init(&in, o.buf, o.len);
	/* Sections by name, in any order. */
	CHECK_EQ(vmstate_open(&in, "i8042", &ver), 0);
	CHECK_EQ(ver, 7u);
	CHECK_EQ(vmstate_get_u8(&in, "ctr", &u8), 0);
	CHECK_EQ(u8, 0x45);
	CHECK_EQ(vmstate_get_u8(&in, "ier", &u8), -ENOENT); /* another section's field */
	CHECK_EQ(vmstate_open(&in, "serial", &ver), 0);
	CHECK_EQ(ver, 1u);
	CHECK_EQ(vmstate_get_bytes(&in, "fifo", buf, sizeof(buf), &n), 0);
	CHECK_EQ(n, 5u);
	CHECK_STR(buf, "hello");
	CHECK_EQ(vmstate_get_u64(&in, "q", &u64), 0);
	CHECK_EQ(u64, 0x0123456789abcdefULL);
	CHECK_EQ(vmstate_get_u32(&in, "l", &u32), 0);
	CHECK_EQ(u32, 0xdeadbeefu);
	CHECK_EQ(vmstate_get_u16(&in, "w", &u16), 0);
	CHECK_EQ(u16, 0xbeef);
	CHECK_EQ(vmstate_get_u8(&in, "ier", &u8), 0);
	CHECK_EQ(u8, 0x0f);
	CHECK_EQ(vmstate_get_bool(&in, "b", &b), 0);
	CHECK(b);
	CHECK_EQ(vmstate_get_bytes(&in, "empty", buf, sizeof(buf), &n), 0);
	CHECK_EQ(n, 0u);
	/* Missing and wrong-typed fields, too-small buffers, absent sections. */
	CHECK_EQ(vmstate_get_u32(&in, "nope", &u32), -ENOENT);
	CHECK_EQ(vmstate_get_u32(&in, "ier", &u32), -EINVAL);
	CHECK_EQ(vmstate_get_u8(&in, "fifo", &u8), -EINVAL);
	CHECK_EQ(vmstate_get_bytes(&in, "fifo", buf, 4, &n), -EINVAL);
	CHECK_EQ(vmstate_open(&in, "virtio-blk0", &ver), -ENOENT);
	/* Walking every section in order. */
	size_t pos = 0;
	CHECK_EQ(vmstate_next(&in, &pos), 1);
	CHECK_STR(in.section, "serial");
	CHECK_EQ(vmstate_next(&in, &pos), 1);
	CHECK_STR(in.section, "i8042");
	CHECK_EQ(vmstate_next(&in, &pos), 0);
	vmstate_out_free(&o);
}

static void test_writer_misuse(void)
{
	struct vmstate_out o;
	char longname[VMSTATE_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;

	vmstate_out_init(&o);
	CHECK_EQ(vmstate_put_u8(&o, "x", 1), -EINVAL); /* no section open */
	vmstate_out_free(&o);
	vmstate_out_init(&o);
	CHECK_EQ(vmstate_begin(&o, "", 1), -EINVAL);
	vmstate_out_free(&o);
	vmstate_out_init(&o);
	CHECK_EQ(vmstate_begin(&o, "s", 1), 0);
	CHECK_EQ(vmstate_begin(&o, "t", 1), -EINVAL); /* nested */
	vmstate_out_free(&o);
	vmstate_out_init(&o);
	CHECK_EQ(vmstate_begin(&o, "s", 1), 0);
	CHECK_EQ(vmstate_put_u8(&o, longname, 1), -EINVAL);
	CHECK_EQ(vmstate_put_u8(&o, "ok", 1), -EINVAL); /* sticky */
	CHECK_EQ(vmstate_end(&o), -EINVAL);
	vmstate_out_free(&o);
	/* An aborted section leaves no trace. */
	vmstate_out_init(&o);
	CHECK_EQ(vmstate_begin(&o, "a", 1), 0);
	CHECK_EQ(vmstate_end(&o), 0);
	size_t len = o.len;
	CHECK_EQ(vmstate_begin(&o, "b", 1), 0);
	CHECK_EQ(vmstate_put_u32(&o, "x", 1), 0);
	vmstate_abort_section(&o);
	CHECK_EQ(o.len, len);
	vmstate_out_free(&o);
}

/* Read everything a restore might ask for; the answers do not matter, only that nothing reads
 * out of bounds (ASan) and nothing claims success on garbage it cannot have parsed. */
static void read_all(const uint8_t *p, size_t n)
{
	struct vmstate_in in;
	uint8_t u8, buf[8];
	uint64_t u64;
	bool b;
	size_t len, pos = 0;
	vmstate_in_init(&in, p, n);
	if (vmstate_open(&in, "serial", NULL) == 0) {
		vmstate_get_u8(&in, "ier", &u8);
		vmstate_get_u64(&in, "q", &u64);
		vmstate_get_bool(&in, "b", &b);
		vmstate_get_bytes(&in, "fifo", buf, sizeof(buf), &len);
	}
	while (vmstate_next(&in, &pos) == 1)
		vmstate_get_u8(&in, "ctr", &u8);
}

static void test_truncated_and_corrupt(void)
{
	struct vmstate_out o;
	struct vmstate_in in;
	write_sample(&o);
	int truncated_opened = 0;
	for (size_t n = 0; n < o.len; n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
		memcpy(copy, o.buf, n);
		vmstate_in_init(&in, copy, n);
		/* The second section is cut: it must not open. */
		truncated_opened += vmstate_open(&in, "i8042", NULL) == 0;
		read_all(copy, n);
		free(copy);
	}
	CHECK_EQ(truncated_opened, 0);
	for (size_t i = 0; i < o.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t *copy = malloc(o.len);
			memcpy(copy, o.buf, o.len);
			copy[i] ^= (uint8_t)(1 << bit);
			read_all(copy, o.len);
			free(copy);
		}
	}
	/* A section length pointing past the end, a bytes field longer than its section. */
	uint8_t bad[] = { 'S', 1, 's', 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f };
	vmstate_in_init(&in, bad, sizeof(bad));
	CHECK_EQ(vmstate_open(&in, "s", NULL), -EINVAL);
	uint8_t bad2[] = { 'S', 1, 's', 1, 0, 0, 0, 10, 0, 0, 0, VMSTATE_BYTES, 1, 'f', 100, 0, 0, 0, 1, 2, 3 };
	vmstate_in_init(&in, bad2, sizeof(bad2));
	CHECK_EQ(vmstate_open(&in, "s", NULL), -EINVAL);
	uint8_t bad_bool[] = { 'S', 1, 's', 1, 0, 0, 0, 4, 0, 0, 0, VMSTATE_BOOL, 1, 'b', 2 };
	vmstate_in_init(&in, bad_bool, sizeof(bad_bool));
	bool b;
	CHECK_EQ(vmstate_open(&in, "s", NULL), 0);
	CHECK_EQ(vmstate_get_bool(&in, "b", &b), -EINVAL);
	vmstate_out_free(&o);
}

int main(void)
{
	RUN(test_round_trip);
	RUN(test_writer_misuse);
	RUN(test_truncated_and_corrupt);
	UNIT_EXIT();
}
