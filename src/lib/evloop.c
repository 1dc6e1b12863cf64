#include "evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct evloop_handler {
	int fd;
	evloop_fn fn;
	void *opaque;
	bool removed;
	struct evloop_handler *next;
};

static pthread_mutex_t handlers_lock = PTHREAD_MUTEX_INITIALIZER;

int evloop_init(struct evloop *l)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake_fd < 0) {
		int e = errno;
		close(l->epfd);
		return -e;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev) < 0) {
		int e = errno;
		close(l->wake_fd);
		close(l->epfd);
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
	pthread_mutex_lock(&handlers_lock);
	h->next = l->handlers;
	l->handlers = h;
	pthread_mutex_unlock(&handlers_lock);
	struct epoll_event ev = { .events = events, .data.ptr = h };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		h->removed = true; /* stays on the list; freed with the loop */
		return -errno;
	}
	return 0;
}

int evloop_del(struct evloop *l, int fd)
{
	int ret = -ENOENT;
	pthread_mutex_lock(&handlers_lock);
	for (struct evloop_handler *h = l->handlers; h; h = h->next) {
		if (h->fd == fd && !h->removed) {
			h->removed = true;
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			ret = 0;
		}
	}
	pthread_mutex_unlock(&handlers_lock);
	return ret;
}

int evloop_run(struct evloop *l)
{
	struct epoll_event evs[32];

	while (!l->stopping) {
		int n = epoll_wait(l->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stopping; i++) {
			struct evloop_handler *h = evs[i].data.ptr;
			if (!h) { /* wake_fd */
				uint64_t v;
				if (read(l->wake_fd, &v, sizeof(v)) < 0) {
					/* nothing to do: the counter was already drained */
				}
				continue;
			}
			if (!h->removed)
				h->fn(h->opaque, evs[i].events);
		}
	}
	return 0;
}

void evloop_stop(struct evloop *l)
{
	uint64_t one = 1;
	l->stopping = 1;
	if (write(l->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the loop is waking anyway */
	}
}

static void *loop_thread(void *arg)
{
	evloop_run(arg);
	return NULL;
}

int evloop_start_thread(struct evloop *l, const char *name)
{
	int r = pthread_create(&l->thread, NULL, loop_thread, l);
	if (r)
		return -r;
	l->has_thread = true;
	if (name)
		pthread_setname_np(l->thread, name);
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
	if (l->epfd > 0)
		close(l->epfd);
	if (l->wake_fd > 0)
		close(l->wake_fd);
	l->epfd = l->wake_fd = -1;
}
