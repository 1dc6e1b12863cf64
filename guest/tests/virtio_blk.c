/* Drives a virtio-blk disk (--disk; the first, or the blk.index=N-th from 0) through virtio-mmio:
 * capacity, GET_ID, a read of sector 0, then on a writable disk a write of sector 1, a flush and a read-back, on a
 * read-only one a write that must fail; and a read past the end that must fail. Prints each result;
 * the test checks them and the disk file afterwards. */
#include "virtio.h"

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define S_OK 0
#define S_IOERR 1
#define F_RO (1ULL << 5)
#define F_FLUSH (1ULL << 9)

static const char pattern[] = "CAPSULE-GUEST-WROTE-SECTOR-1";

static struct {
	uint32_t type, reserved;
	uint64_t sector;
} hdr;
static uint8_t data[512], status;

/* One request; returns the status byte, or -1 on timeout. */
static int request(struct vio_dev *d, uint32_t type, uint64_t sector, uint32_t len)
{
	struct vio_buf b[3] = {
		{ &hdr, sizeof(hdr), 0 },
		{ data, len, type != T_OUT },
		{ &status, 1, 1 },
	};

	hdr.type = type;
	hdr.sector = sector;
	status = 0xff;
	if (len)
		return vio_transfer(d, b, 3) < 0 ? -1 : status;
	b[1] = b[2];
	return vio_transfer(d, b, 2) < 0 ? -1 : status;
}

static void print_data(const char *what, unsigned max)
{
	unsigned i;

	rt_printf("blk: %s: [", what);
	for (i = 0; i < max && data[i] >= ' ' && data[i] <= '~'; i++)
		rt_putc((char)data[i]);
	rt_puts("]\n");
}

int guest_main(void)
{
	struct vio_dev d;
	uint64_t capacity;
	int ro, s, ok = 1;
	unsigned i;

	if (vio_find(VIO_ID_BLK, (unsigned)rt_cmdline_num("blk.index", 0), &d) < 0) {
		rt_puts("blk: no virtio-blk device on the command line\n");
		return RT_EXIT_FAIL;
	}
	if (vio_init(&d, F_RO | F_FLUSH) < 0)
		return RT_EXIT_FAIL;
	capacity = vio_config64(&d, 0);
	ro = !!(d.device_features & F_RO);
	rt_printf("blk: capacity %lu sectors, ro %d, flush %d\n", capacity, ro,
		  !!(d.device_features & F_FLUSH));

	memset(data, 0, sizeof(data));
	s = request(&d, T_GET_ID, 0, 20);
	rt_printf("blk: get-id status %d\n", s);
	print_data("id", 20);

	s = request(&d, T_IN, 0, 512);
	rt_printf("blk: read sector 0 status %d\n", s);
	print_data("sector 0", 64);
	ok &= s == S_OK;

	memset(data, 0, sizeof(data));
	memcpy(data, pattern, sizeof(pattern) - 1);
	s = request(&d, T_OUT, 1, 512);
	rt_printf("blk: write sector 1 status %d\n", s);
	if (ro) {
		ok &= s == S_IOERR;
	} else {
		ok &= s == S_OK;
		s = request(&d, T_FLUSH, 0, 0);
		rt_printf("blk: flush status %d\n", s);
		ok &= s == S_OK;
		memset(data, 0, sizeof(data));
		s = request(&d, T_IN, 1, 512);
		for (i = 0; i < sizeof(pattern) - 1 && data[i] == (uint8_t)pattern[i]; i++)
			;
		rt_printf("blk: read back sector 1 status %d, %s\n", s,
			  i == sizeof(pattern) - 1 ? "matches" : "DIFFERS");
		ok &= s == S_OK && i == sizeof(pattern) - 1;
	}

	s = request(&d, T_IN, capacity, 512);
	rt_printf("blk: read past the end status %d\n", s);
	ok &= s == S_IOERR;

	rt_puts(ok ? "blk: ok\n" : "blk: FAILED\n");
	return ok ? 0 : RT_EXIT_FAIL;
}
