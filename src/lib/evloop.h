/* A small epoll loop. The VMM runs one on its I/O thread (virtio queues, TAP, sockets) and
 * one on the main thread (console input, signals, VM exit). Handlers run on the loop's thread. */
#ifndef CAPSULE_LIB_EVLOOP_H
#define CAPSULE_LIB_EVLOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*evloop_fn)(void *opaque, uint32_t events);

struct evloop_handler;

struct evloop {
	int epfd;
	int wake_fd;               /* eventfd: evloop_stop() from any thread */
	volatile int stopping;
	pthread_t thread;
	bool has_thread;
	char thread_name[16];      /* set by the thread itself, before its init (a filter) runs */
	int (*thread_init)(void *);  /* evloop_start_thread_init */
	void *thread_init_arg;
	pthread_mutex_t lock;      /* guards handlers, removed_pending and the quiesce fields */
	struct evloop_handler *handlers; /* owned; removed ones are freed between batches */
	bool removed_pending;      /* evloop_del marked a handler since the last sweep */
	/* Quiescing: the loop's thread parks between batches while quiesce_req is set, with
	 * quiesced true; quiesce_cond is broadcast when either changes or the loop stops. */
	bool quiesce_req, quiesced;
	pthread_cond_t quiesce_cond;
};

int evloop_init(struct evloop *l);
/* Watch fd for events (EPOLLIN...). Safe from any thread; handlers are freed by evloop_free. */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque);
/* Stop watching fd. Call it from the loop's own thread (a handler may delete any fd, its own
 * included), or once the loop has stopped. The handler is freed after the current batch. */
int evloop_del(struct evloop *l, int fd);
/* Run until evloop_stop(); returns 0 or -errno. */
int evloop_run(struct evloop *l);
void evloop_stop(struct evloop *l);
/* From another thread: returns once the loop's thread is parked between two batches (no
 * handler runs until evloop_release), or at once when no thread runs the loop. */
void evloop_quiesce(struct evloop *l);
void evloop_release(struct evloop *l);
/* Is the loop's thread parked now (for tests and debug output). */
bool evloop_is_quiesced(struct evloop *l);
/* Run the loop on a new thread named name. */
int evloop_start_thread(struct evloop *l, const char *name);
/* Same, and the new thread first calls init(arg) (e.g. to install its seccomp filter); when that
 * fails the thread ends without running the loop (init reports why). */
int evloop_start_thread_init(struct evloop *l, const char *name, int (*init)(void *), void *arg);
/* Stop (if running), join the thread, close fds and free handlers. */
void evloop_free(struct evloop *l);

#endif
