/* Block file backends for virtio-blk: raw image files (or block devices) with asynchronous
 * I/O. io_uring (liburing) is the fast path; a worker thread doing preadv/pwritev is the
 * fallback where io_uring_queue_init fails (old kernels, seccomp, io_uring_disabled).
 * Completions are signalled on an eventfd the I/O thread watches; blk_backend_complete()
 * hands each finished request to the done callback on that thread. */
#ifndef CAPSULE_VMM_BACKENDS_BLOCK_H
#define CAPSULE_VMM_BACKENDS_BLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../../lib/error.h"

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH, BLK_DISCARD };

enum blk_mode {
	BLK_MODE_AUTO,		/* io_uring, else thread; CAPSULE_BLK_BACKEND=uring|thread overrides */
	BLK_MODE_URING,
	BLK_MODE_THREAD,
};

struct blk_io {
	enum blk_op op;
	uint64_t off, len;	/* byte offset; len for discard (read/write use the iovecs) */
	struct iovec *iov;
	int iovcnt;
	int64_t result;		/* bytes transferred, or -errno */
	struct blk_io *next;	/* the backend's queues */
};

typedef void (*blk_done_fn)(void *ctx, struct blk_io *io);

struct blk_backend {
	int fd;
	int efd;		/* completion eventfd */
	bool readonly;
	bool uring;		/* which engine runs */
	uint64_t size;		/* bytes */
	blk_done_fn done;
	void *ctx;
	unsigned inflight;	/* submitted, done() not called yet */
	/* io_uring */
	void *ring;		/* struct io_uring *, kept opaque so users need not include liburing */
	struct blk_io *backlog, **backlog_tail;	/* waiting for a free SQE */
	unsigned unsubmitted;
	/* thread fallback */
	pthread_t worker;
	bool worker_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	struct blk_io *todo, **todo_tail;
	struct blk_io *finished;
};

/* Open path (read-only when ro). Returns 0 or -errno with err filled. */
int blk_backend_open(struct blk_backend *b, const char *path, bool ro, enum blk_mode mode, blk_done_fn done,
		     void *ctx, cap_err *err);
/* Queue one request; it is not started before blk_backend_kick(). */
void blk_backend_submit(struct blk_backend *b, struct blk_io *io);
/* Start everything queued so far (one io_uring_submit for a whole batch). */
void blk_backend_kick(struct blk_backend *b);
/* The completion eventfd fired: run done() for every finished request. */
void blk_backend_complete(struct blk_backend *b);
/* Wait for the completion eventfd (tests). */
int blk_backend_wait(struct blk_backend *b, int timeout_ms);
/* Finish every request before returning: those not started yet complete with -ECANCELED,
 * running ones are cancelled where the kernel can and waited for otherwise; done() runs for
 * each on the calling thread. After it no request touches its buffers any more (a device reset
 * must not let a read land in guest pages the driver has taken back). */
void blk_backend_drain(struct blk_backend *b);
/* Stop the engine and close the file. Requests still in flight are cancelled and waited for,
 * never completed (done() is not called). */
void blk_backend_close(struct blk_backend *b);

/* Internal: the io_uring engine (block_uring.c). */
int blk_uring_init(struct blk_backend *b);
void blk_uring_submit(struct blk_backend *b, struct blk_io *io);
void blk_uring_kick(struct blk_backend *b);
void blk_uring_complete(struct blk_backend *b);
/* Push out what is queued and ask the kernel to cancel everything in flight. */
void blk_uring_cancel(struct blk_backend *b);
void blk_uring_close(struct blk_backend *b);
#endif
