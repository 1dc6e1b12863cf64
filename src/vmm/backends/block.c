/* Block backend: open and size the image, pick the engine, and the worker-thread fallback. */
#include "block.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/efd.h"
#include "../../lib/log.h"
#include "../sandbox/seccomp.h"

static void run_one(struct blk_backend *b, struct blk_io *io)
{
	ssize_t n = 0;

	switch (io->op) {
	case BLK_READ:
		n = preadv(b->fd, io->iov, io->iovcnt, (off_t)io->off);
		break;
	case BLK_WRITE:
		n = pwritev(b->fd, io->iov, io->iovcnt, (off_t)io->off);
		break;
	case BLK_FLUSH:
		n = fdatasync(b->fd);
		break;
	case BLK_DISCARD:
		n = fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)io->off, (off_t)io->len);
		break;
	}
	io->result = n < 0 ? -errno : n;
}

/* A thread that cannot confine itself must not run unconfined: the VMM stops here. */
static void enter_or_die(const char *kind)
{
	cap_err e = { 0 };
	if (vmm_seccomp_enter(kind, &e) < 0) {
		cap_log(CAP_LOG_ERROR, "%s", e.msg);
		_exit(CAP_EXIT_ERROR);
	}
}

static void *worker(void *arg)
{
	struct blk_backend *b = arg;

	pthread_setname_np(pthread_self(), "capsule-blk"); /* named before its filter: audit records say so */
	enter_or_die("blk");

	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (!b->todo && !b->stopping)
			pthread_cond_wait(&b->cond, &b->lock);
		if (b->stopping)
			break;
		struct blk_io *io = b->todo;
		b->todo = io->next;
		if (!b->todo)
			b->todo_tail = &b->todo;
		pthread_mutex_unlock(&b->lock);
		run_one(b, io);
		pthread_mutex_lock(&b->lock);
		io->next = b->finished;
		b->finished = io;
		efd_signal(b->efd);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static int thread_init(struct blk_backend *b)
{
	b->todo = NULL;
	b->todo_tail = &b->todo;
	b->finished = NULL;
	b->stopping = false;
	int r = pthread_create(&b->worker, NULL, worker, b);
	if (r)
		return -r;
	b->worker_started = true;
	return 0;
}

int blk_backend_open(struct blk_backend *b, const char *path, bool ro, enum blk_mode mode, blk_done_fn done,
		     void *ctx, cap_err *err)
{
	struct stat st;
	int r;

	memset(b, 0, sizeof(*b));
	b->fd = b->efd = -1;
	b->readonly = ro;
	b->done = done;
	b->ctx = ctx;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);

	b->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		r = cap_errf(err, errno, "disk %s", path);
		goto fail;
	}
	if (fstat(b->fd, &st) < 0) {
		r = cap_errf(err, errno, "disk %s", path);
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &b->size) < 0) {
			r = cap_errf(err, errno, "disk %s: size", path);
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		b->size = (uint64_t)st.st_size;
	} else {
		r = cap_errf(err, 0, "disk %s: not a regular file or block device", path);
		goto fail;
	}
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0) {
		r = cap_errf(err, errno, "disk %s: eventfd", path);
		goto fail;
	}

	const char *env = getenv("CAPSULE_BLK_BACKEND");
	if (mode == BLK_MODE_AUTO && env && !strcmp(env, "thread"))
		mode = BLK_MODE_THREAD;
	else if (mode == BLK_MODE_AUTO && env && !strcmp(env, "uring"))
		mode = BLK_MODE_URING;
	if (mode != BLK_MODE_THREAD) {
		r = blk_uring_init(b);
		if (r == 0) {
			b->uring = true;
			return 0;
		}
		if (mode == BLK_MODE_URING) {
			cap_errf(err, -r, "disk %s: io_uring", path);
			goto fail;
		}
		cap_debug("disk %s: io_uring unavailable (%s), using a worker thread", path, strerror(-r));
	}
	r = thread_init(b);
	if (r < 0) {
		cap_errf(err, -r, "disk %s: worker thread", path);
		goto fail;
	}
	return 0;
fail:
	blk_backend_close(b);
	return r;
}

void blk_backend_submit(struct blk_backend *b, struct blk_io *io)
{
	io->next = NULL;
	b->inflight++;
	if (b->uring) {
		blk_uring_submit(b, io);
		return;
	}
	pthread_mutex_lock(&b->lock);
	*b->todo_tail = io;
	b->todo_tail = &io->next;
	pthread_mutex_unlock(&b->lock);
}

void blk_backend_kick(struct blk_backend *b)
{
	if (b->uring) {
		blk_uring_kick(b);
		return;
	}
	pthread_mutex_lock(&b->lock);
	if (b->todo)
		pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

void blk_backend_complete(struct blk_backend *b)
{
	efd_drain(b->efd);
	if (b->uring) {
		blk_uring_complete(b);
		return;
	}
	pthread_mutex_lock(&b->lock);
	struct blk_io *list = b->finished;
	b->finished = NULL;
	pthread_mutex_unlock(&b->lock);
	/* The list is newest first; complete in submission order. */
	struct blk_io *rev = NULL;
	while (list) {
		struct blk_io *next = list->next;
		list->next = rev;
		rev = list;
		list = next;
	}
	while (rev) {
		struct blk_io *next = rev->next;
		b->inflight--;
		b->done(b->ctx, rev);
		rev = next;
	}
}

void blk_backend_drain(struct blk_backend *b)
{
	if (b->uring) {
		blk_uring_cancel(b);
	} else {
		/* Not started yet: they never reach the file. */
		pthread_mutex_lock(&b->lock);
		struct blk_io *io = b->todo;
		b->todo = NULL;
		b->todo_tail = &b->todo;
		pthread_mutex_unlock(&b->lock);
		while (io) {
			struct blk_io *next = io->next;
			io->result = -ECANCELED;
			b->inflight--;
			b->done(b->ctx, io);
			io = next;
		}
	}
	/* What runs already (a preadv in the worker, a read in io_uring's workers) cannot be
	 * stopped, only waited for. */
	for (unsigned waited = 0; b->inflight;) {
		if (blk_backend_wait(b, 1000) == 0 && ++waited % 10 == 0)
			cap_warn("disk: %u requests still running after %u s", b->inflight, waited);
		blk_backend_complete(b);
	}
}

int blk_backend_wait(struct blk_backend *b, int timeout_ms)
{
	struct pollfd p = { .fd = b->efd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);
	return r < 0 ? -errno : r;
}

void blk_backend_close(struct blk_backend *b)
{
	if (b->worker_started) {
		pthread_mutex_lock(&b->lock);
		b->stopping = true;
		pthread_cond_signal(&b->cond);
		pthread_mutex_unlock(&b->lock);
		pthread_join(b->worker, NULL);
		b->worker_started = false;
	}
	blk_uring_close(b);
	if (b->efd >= 0)
		close(b->efd);
	if (b->fd >= 0)
		close(b->fd);
	b->efd = b->fd = -1;
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
}
