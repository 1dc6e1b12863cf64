/* The io_uring engine of the block backend: one ring per disk, completions on an eventfd. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <stdlib.h>

#include "block.h"

#define RING_ENTRIES 256
#define BLK_URING_ASYNC_MIN (256u * 1024)

int blk_uring_init(struct blk_backend *b)
{
	struct io_uring *ring = calloc(1, sizeof(*ring));
	int r;

	if (!ring)
		return -ENOMEM;
	r = io_uring_queue_init(RING_ENTRIES, ring, 0);
	if (r < 0) {
		free(ring);
		return r;
	}
	r = io_uring_register_eventfd(ring, b->efd);
	if (r < 0) {
		io_uring_queue_exit(ring);
		free(ring);
		return r;
	}
	b->ring = ring;
	b->backlog = NULL;
	b->backlog_tail = &b->backlog;
	return 0;
}

static bool prep(struct blk_backend *b, struct blk_io *io)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(b->ring);

	if (!sqe)
		return false;
	switch (io->op) {
	case BLK_READ:
		io_uring_prep_readv(sqe, b->fd, io->iov, (unsigned)io->iovcnt, io->off);
		break;
	case BLK_WRITE:
		io_uring_prep_writev(sqe, b->fd, io->iov, (unsigned)io->iovcnt, io->off);
		break;
	case BLK_FLUSH:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_DISCARD:
		io_uring_prep_fallocate(sqe, b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, io->off, io->len);
		break;
	}
	/* Large transfers go straight to io_uring's workers: attempted inline, a multi-MiB copy
	 * would run on the I/O thread and hold up every other device's queue. */
	if ((io->op == BLK_READ || io->op == BLK_WRITE) && io->len >= BLK_URING_ASYNC_MIN)
		io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	io_uring_sqe_set_data(sqe, io);
	b->unsubmitted++;
	return true;
}

void blk_uring_submit(struct blk_backend *b, struct blk_io *io)
{
	if (!b->backlog && prep(b, io))
		return;
	/* The SQ is full: keep the order, retry at the next kick or completion. */
	io->next = NULL;
	*b->backlog_tail = io;
	b->backlog_tail = &io->next;
}

void blk_uring_kick(struct blk_backend *b)
{
	for (;;) {
		if (b->unsubmitted) {
			int r = io_uring_submit(b->ring);
			if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR)
				break;
			if (r > 0)
				b->unsubmitted -= (unsigned)r < b->unsubmitted ? (unsigned)r : b->unsubmitted;
		}
		if (!b->backlog)
			break;
		struct blk_io *io = b->backlog;
		if (!prep(b, io))
			break;	/* still full: completions will free SQEs */
		b->backlog = io->next;
		if (!b->backlog)
			b->backlog_tail = &b->backlog;
	}
}

void blk_uring_complete(struct blk_backend *b)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(b->ring, &cqe) == 0) {
		struct blk_io *io = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(b->ring, cqe);
		if (!io)
			continue;	/* the answer to a cancel request */
		io->result = res;
		b->inflight--;
		b->done(b->ctx, io);
	}
	if (b->backlog || b->unsubmitted)
		blk_uring_kick(b);
}

void blk_uring_cancel(struct blk_backend *b)
{
	/* The backlog never reached the ring. */
	while (b->backlog) {
		struct blk_io *io = b->backlog;
		b->backlog = io->next;
		io->result = -ECANCELED;
		b->inflight--;
		b->done(b->ctx, io);
	}
	b->backlog_tail = &b->backlog;
	/* Prepared SQEs cannot be taken back: submit them, then cancel everything. A kernel
	 * without IORING_ASYNC_CANCEL_ANY (< 5.19) answers -EINVAL and we only wait. */
	struct io_uring_sqe *sqe = io_uring_get_sqe(b->ring);
	if (sqe) {
		io_uring_prep_cancel(sqe, NULL, IORING_ASYNC_CANCEL_ANY);
		io_uring_sqe_set_data(sqe, NULL);
		b->unsubmitted++;
	}
	for (int tries = 0; b->unsubmitted && tries < 1000; tries++) {
		int r = io_uring_submit(b->ring);
		if (r > 0)
			b->unsubmitted -= (unsigned)r < b->unsubmitted ? (unsigned)r : b->unsubmitted;
		else if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR)
			break;
	}
}

void blk_uring_close(struct blk_backend *b)
{
	if (!b->ring)
		return;
	/* io_uring_queue_exit does not wait for running requests, and their buffers (guest RAM)
	 * are unmapped right after the device is destroyed: cancel and wait here. The backlog never
	 * reached the kernel and is dropped. */
	for (struct blk_io *io = b->backlog; io; io = io->next)
		b->inflight--;
	b->backlog = NULL;
	b->backlog_tail = &b->backlog;
	blk_uring_cancel(b);
	while (b->inflight) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(b->ring, &cqe);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r < 0)
			break;
		if (io_uring_cqe_get_data(cqe))
			b->inflight--;
		io_uring_cqe_seen(b->ring, cqe);
	}
	io_uring_queue_exit(b->ring);
	free(b->ring);
	b->ring = NULL;
}
