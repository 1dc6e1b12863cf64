/* Feeds the virtio-rng device (--rng) malformed queues, one case at a time, the way a hostile
 * guest would. After each, the device must refuse the request by setting NEEDS_RESET (status bit 64)
 * without using it, and come back to life after a reset; the VMM must survive all of it. Ends with
 * a well-formed request, which must succeed. Prints "hostile: CASE: needs-reset" per case.
 * With a virtio-blk disk too (--disk), sends it malformed requests: each must be refused, either
 * by NEEDS_RESET or by a non-OK status byte (UNSUPP for an unknown type, as the spec requires),
 * and a good read must work after; the test checks that the disk file did not change. */
#include "virtio.h"

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define OUTSIDE_RAM 0xfff00000000ULL	/* 16 TiB: no guest has that much */
#define POLL_ROUNDS 200

static uint8_t buf[64];

enum { OUTSIDE, HUGE_LEN, LOOP, NEXT_RANGE, HEAD_RANGE, RUN_AHEAD, READ_AFTER_WRITE, QUEUE_OUTSIDE, NCASES };
static const char *const names[NCASES] = {
	"buffer outside RAM", "length past the end of RAM", "descriptor loop", "next index out of range",
	"head index out of range", "available index runs ahead", "readable after writable",
	"queue outside RAM",
};

/* Posts one crafted request; the descriptors are already written. */
static void post(struct vio_dev *d, uint16_t head, uint16_t advance)
{
	struct vio_vq *vq = &d->vq[0];

	vq->mem->avail.ring[vq->avail_idx % VIO_QSIZE] = head;
	__asm__ volatile("" ::: "memory");
	vq->avail_idx = (uint16_t)(vq->avail_idx + advance);
	vq->mem->avail.idx = vq->avail_idx;
	vio_notify(d);
}

/* Waits for the device's reaction: 1 NEEDS_RESET, 0 it used the request, -1 nothing. */
static int reaction(struct vio_dev *d)
{
	int round;

	for (round = 0; round < POLL_ROUNDS; round++) {
		if (vio_status(d) & VIO_S_NEEDS_RESET)
			return 1;
		if (vio_wait_used(d, 1 << 16))
			return 0;
	}
	return vio_status(d) & VIO_S_NEEDS_RESET ? 1 : -1;
}

static int run_case(struct vio_dev *d, int c)
{
	struct vio_desc *desc;
	int r;

	vio_reset(d);
	if (c == QUEUE_OUTSIDE) {
		/* The queue itself where no RAM is: the device must refuse it at QueueReady or DRIVER_OK,
		 * or at the latest when it is kicked. */
		if (vio_negotiate(d, 0) < 0)
			return -2;
		d->nq = 1;
		vio_setup_queue(d, 0, OUTSIDE_RAM, OUTSIDE_RAM + 0x1000, OUTSIDE_RAM + 0x2000);
		if (vio_driver_ok(d) < 0)	/* prints the status it got */
			return vio_status(d) & VIO_S_NEEDS_RESET ? 1 : -1;
		vio_notify(d);
		for (r = 0; r < POLL_ROUNDS; r++)
			if (vio_status(d) & VIO_S_NEEDS_RESET)
				return 1;
		return -1;
	}
	if (vio_init(d, 0) < 0)
		return -2;
	desc = d->vq[0].mem->desc;
	desc[0] = (struct vio_desc){ (uintptr_t)buf, sizeof(buf), DESC_F_WRITE, 0 };
	switch (c) {
	case OUTSIDE:
		desc[0].addr = OUTSIDE_RAM;
		break;
	case HUGE_LEN:
		desc[0].len = 0xfffff000;
		break;
	case LOOP:
		desc[0].flags |= DESC_F_NEXT;
		desc[0].next = 0;
		break;
	case NEXT_RANGE:
		desc[0].flags |= DESC_F_NEXT;
		desc[0].next = 200;
		break;
	case READ_AFTER_WRITE:
		desc[0].flags |= DESC_F_NEXT;
		desc[0].next = 1;
		desc[1] = (struct vio_desc){ (uintptr_t)buf, 8, 0, 0 };
		break;
	}
	post(d, c == HEAD_RANGE ? 100 : 0, c == RUN_AHEAD ? 100 : 1);
	return reaction(d);
}

/* virtio-blk requests. */
#define T_IN 0
#define T_OUT 1
#define S_OK 0
#define S_UNSUPP 2

static struct {
	uint32_t type, reserved;
	uint64_t sector;
} hdr;
static uint8_t data[1024], status;

enum { B_NO_STATUS, B_SHORT_HDR, B_ODD_LEN, B_UNKNOWN, B_READ_INTO_READABLE, B_WRITE_PAST_END,
       B_WRITE_WITH_WRITABLE, B_READ_PAST_END, NBCASES };
static const char *const bnames[NBCASES] = {
	"no status byte", "short header", "read of 100 bytes", "unknown type", "read into a readable buffer",
	"write past the end", "write with writable data", "read straddling the end",
};

/* 1 NEEDS_RESET, 2 used with a non-OK status (3 if UNSUPP), 0 used with OK, -1 nothing. */
static int blk_case(struct vio_dev *d, int c, uint64_t capacity)
{
	struct vio_buf b[3] = {
		{ &hdr, sizeof(hdr), 0 },
		{ data, 512, 1 },
		{ &status, 1, 1 },
	};
	unsigned n = 3;
	int r;

	vio_reset(d);
	if (vio_init(d, 0) < 0)
		return -2;
	hdr.type = T_IN;
	hdr.sector = 0;
	status = 0xee;
	switch (c) {
	case B_NO_STATUS:
		b[1].device_writes = 0;
		b[1].len = 512;
		hdr.type = T_OUT;
		n = 2;
		break;
	case B_SHORT_HDR:
		b[0].len = 8;
		break;
	case B_ODD_LEN:
		b[1].len = 100;
		break;
	case B_UNKNOWN:
		hdr.type = 0x1234;
		break;
	case B_READ_INTO_READABLE:
		b[1].device_writes = 0;
		break;
	case B_WRITE_PAST_END:
		hdr.type = T_OUT;
		hdr.sector = capacity;
		b[1].device_writes = 0;
		break;
	case B_WRITE_WITH_WRITABLE:
		hdr.type = T_OUT;
		break;
	case B_READ_PAST_END:
		hdr.sector = capacity - 1;
		b[1].len = 1024;
		break;
	}
	vio_post(d, b, n);
	r = reaction(d);
	if (r != 0)
		return r;
	vio_take_used(d);
	return status == S_OK ? 0 : status == S_UNSUPP ? 3 : 2;
}

static int hostile_blk(struct vio_dev *d)
{
	uint64_t capacity;
	int c, ok = 1;
	long len;
	struct vio_buf b[3] = {
		{ &hdr, sizeof(hdr), 0 },
		{ data, 512, 1 },
		{ &status, 1, 1 },
	};

	if (vio_init(d, 0) < 0)
		return 0;
	capacity = vio_config64(d, 0);
	for (c = 0; c < NBCASES; c++) {
		int r = blk_case(d, c, capacity);

		rt_printf("hostile-blk: %s: %s\n", bnames[c],
			  r == 1 ? "needs-reset" : r == 2 ? "refused" : r == 3 ? "unsupported" :
			  r == 0 ? "ACCEPTED" : r == -1 ? "NO REACTION" : "INIT FAILED");
		ok &= c == B_UNKNOWN ? r == 3 : r >= 1;
	}
	vio_reset(d);
	if (vio_init(d, 0) < 0)
		return 0;
	hdr.type = T_IN;
	hdr.sector = 0;
	status = 0xee;
	len = vio_transfer(d, b, 3);
	rt_printf("hostile-blk: good read after reset: status %u, %ld bytes\n", status, len);
	return ok && len == 513 && status == S_OK;
}

int guest_main(void)
{
	struct vio_dev d;
	struct vio_buf b = { buf, sizeof(buf), 1 };
	int c, ok = 1;
	long len;

	if (vio_find(VIO_ID_RNG, 0, &d) < 0) {
		rt_puts("hostile: no virtio-rng device on the command line\n");
		return RT_EXIT_FAIL;
	}
	for (c = 0; c < NCASES; c++) {
		int r = run_case(&d, c);

		rt_printf("hostile: %s: %s\n", names[c],
			  r == 1 ? "needs-reset" : r == 0 ? "USED" : r == -1 ? "NO REACTION" : "INIT FAILED");
		ok &= r == 1;
	}
	vio_reset(&d);
	if (vio_init(&d, 0) < 0)
		return RT_EXIT_FAIL;
	len = vio_transfer(&d, &b, 1);
	rt_printf("hostile: good request after reset: %ld bytes\n", len);
	ok &= len == sizeof(buf);
	if (vio_find(VIO_ID_BLK, 0, &d) == 0)
		ok &= hostile_blk(&d);
	rt_puts(ok ? "hostile: ok\n" : "hostile: FAILED\n");
	return ok ? 0 : RT_EXIT_FAIL;
}
