#include "evloop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "efd.h"

struct evloop_handler {
	int fd;
	evloop_fn fn;
	void *opaque;
	bool removed;   /* set by evloop_del; freed by the loop once no batch can still name it */
	struct evloop_handler *next;
};

int evloop_init(struct evloop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = l->wake_fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->quiesce_cond, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int e = errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (l->wake_fd < 0 || (e = 0, epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev) < 0)) {
		if (!e)
			e = errno;
		if (l->wake_fd >= 0)
			close(l->wake_fd);
		close(l->epfd);
		l->epfd = l->wake_fd = -1; /* evloop_free must not close them again */
		return -e;
	}
	return 0;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque)
{
	struct evloop_handler *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->fn = fn;
	h->opaque = opaque;
	struct epoll_event ev = { .events = events, .data.ptr = h };
	pthread_mutex_lock(&l->lock);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		pthread_mutex_unlock(&l->lock);
		free(h);
		return -e;
	}
	h->next = l->handlers;
	l->handlers = h;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int evloop_del(struct evloop *l, int fd)
{
	int ret = -ENOENT;
	pthread_mutex_lock(&l->lock);
	for (struct evloop_handler *h = l->handlers; h; h = h->next) {
		if (h->fd == fd && !h->removed) {
			h->removed = true;
			l->removed_pending = true;
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			ret = 0;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* Free handlers removed during the last batch. Runs on the loop's thread between batches, when
 * no epoll event still points at them (their fds left the epoll set in evloop_del). */
static void sweep(struct evloop *l)
{
	pthread_mutex_lock(&l->lock);
	l->removed_pending = false;
	struct evloop_handler **pp = &l->handlers;
	while (*pp) {
		struct evloop_handler *h = *pp;
		if (h->removed) {
			*pp = h->next;
			free(h);
		} else {
			pp = &h->next;
		}
	}
	pthread_mutex_unlock(&l->lock);
}

/* Between batches: park while a quiesce is requested. */
static void maybe_park(struct evloop *l)
{
	if (!__atomic_load_n(&l->quiesce_req, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&l->lock);
	if (l->quiesce_req && !l->stopping) {
		l->quiesced = true;
		pthread_cond_broadcast(&l->quiesce_cond);
		while (l->quiesce_req && !l->stopping)
			pthread_cond_wait(&l->quiesce_cond, &l->lock);
		l->quiesced = false;
		pthread_cond_broadcast(&l->quiesce_cond);
	}
	pthread_mutex_unlock(&l->lock);
}

int evloop_run(struct evloop *l)
{
	struct epoll_event evs[32];

	while (!l->stopping) {
		maybe_park(l);
		if (l->stopping)
			break;
		int n = epoll_wait(l->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stopping; i++) {
			struct evloop_handler *h = evs[i].data.ptr;
			if (!h) { /* wake_fd */
				efd_drain(l->wake_fd);
				continue;
			}
			if (!h->removed)
				h->fn(h->opaque, evs[i].events);
		}
		if (l->removed_pending)
			sweep(l);
	}
	return 0;
}

void evloop_stop(struct evloop *l)
{
	pthread_mutex_lock(&l->lock);
	l->stopping = 1;
	pthread_cond_broadcast(&l->quiesce_cond); /* a parked loop must see it */
	pthread_mutex_unlock(&l->lock);
	efd_signal(l->wake_fd);
}

void evloop_quiesce(struct evloop *l)
{
	pthread_mutex_lock(&l->lock);
	__atomic_store_n(&l->quiesce_req, true, __ATOMIC_RELEASE);
	if (l->has_thread) {
		efd_signal(l->wake_fd); /* out of epoll_wait, to the park point */
		while (!l->quiesced && !l->stopping)
			pthread_cond_wait(&l->quiesce_cond, &l->lock);
	}
	pthread_mutex_unlock(&l->lock);
}

void evloop_release(struct evloop *l)
{
	pthread_mutex_lock(&l->lock);
	__atomic_store_n(&l->quiesce_req, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&l->quiesce_cond);
	pthread_mutex_unlock(&l->lock);
}

bool evloop_is_quiesced(struct evloop *l)
{
	pthread_mutex_lock(&l->lock);
	bool q = l->quiesced;
	pthread_mutex_unlock(&l->lock);
	return q;
}

static void *loop_thread(void *arg)
{
	struct evloop *l = arg;
	if (l->thread_name[0])
		pthread_setname_np(pthread_self(), l->thread_name);
	if (l->thread_init && l->thread_init(l->thread_init_arg) < 0)
		return NULL;
	evloop_run(l);
	return NULL;
}

int evloop_start_thread_init(struct evloop *l, const char *name, int (*init)(void *), void *arg)
{
	l->thread_init = init;
	l->thread_init_arg = arg;
	return evloop_start_thread(l, name);
}

int evloop_start_thread(struct evloop *l, const char *name)
{
	snprintf(l->thread_name, sizeof(l->thread_name), "%s", name ? name : "");
	int r = pthread_create(&l->thread, NULL, loop_thread, l);
	if (r)
		return -r;
	l->has_thread = true;
	return 0;
}

void evloop_free(struct evloop *l)
{
	if (l->has_thread) {
		evloop_stop(l);
		pthread_join(l->thread, NULL);
		l->has_thread = false;
	}
	struct evloop_handler *h = l->handlers;
	while (h) {
		struct evloop_handler *next = h->next;
		free(h);
		h = next;
	}
	l->handlers = NULL;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	l->epfd = l->wake_fd = -1;
	pthread_cond_destroy(&l->quiesce_cond);
	pthread_mutex_destroy(&l->lock);
}
