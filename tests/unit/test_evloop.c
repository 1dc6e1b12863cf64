/* The epoll loop: handlers run on the loop's thread, deleted handlers stop running at once and
 * are freed (memory does not grow with add/delete cycles), stop from another thread works. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/lib/efd.h"
#include "../../src/lib/evloop.h"

struct ctx {
	struct evloop *l;
	int fd, other_fd;
	int calls;
};

static void on_event(void *opaque, uint32_t events)
{
	struct ctx *c = opaque;
	(void)events;
	efd_drain(c->fd);
	c->calls++;
	evloop_del(c->l, c->fd);
	if (c->other_fd >= 0)
		evloop_del(c->l, c->other_fd); /* deleting another handler from inside a callback */
	evloop_stop(c->l);
}

static void on_never(void *opaque, uint32_t events)
{
	(void)events;
	((struct ctx *)opaque)->calls++;
}


static void test_delete_in_callback_frees(void)
{
	struct evloop l;
	CHECK_EQ(evloop_init(&l), 0);
	int a = eventfd(0, EFD_NONBLOCK), b = eventfd(0, EFD_NONBLOCK);
	struct ctx ca = { &l, a, b, 0 }, cb = { &l, b, -1, 0 };
	CHECK_EQ(evloop_add(&l, a, EPOLLIN, on_event, &ca), 0);
	CHECK_EQ(evloop_add(&l, b, EPOLLIN, on_never, &cb), 0);
	efd_signal(a);
	CHECK_EQ(evloop_run(&l), 0);
	CHECK_EQ(ca.calls, 1);
	CHECK_EQ(cb.calls, 0);
	CHECK(l.handlers == NULL); /* both removed handlers were freed by the sweep */
	evloop_free(&l);
	close(a);
	close(b);
}

static void test_many_cycles_do_not_accumulate(void)
{
	struct evloop l;
	CHECK_EQ(evloop_init(&l), 0);
	int fd = eventfd(0, EFD_NONBLOCK);
	struct ctx c = { &l, fd, -1, 0 };
	for (int i = 0; i < 2000; i++) {
		l.stopping = 0;
		CHECK_EQ(evloop_add(&l, fd, EPOLLIN, on_event, &c), 0);
		efd_signal(fd);
		evloop_run(&l);
	}
	CHECK_EQ(c.calls, 2000);
	CHECK(l.handlers == NULL);
	evloop_free(&l);
	close(fd);
}

static void test_add_failure_leaves_nothing(void)
{
	struct evloop l;
	CHECK_EQ(evloop_init(&l), 0);
	struct ctx c = { &l, -1, -1, 0 };
	CHECK(evloop_add(&l, 12345, EPOLLIN, on_never, &c) < 0); /* not an open fd */
	CHECK(l.handlers == NULL);
	evloop_free(&l);
}

static void test_stop_from_thread(void)
{
	struct evloop l;
	CHECK_EQ(evloop_init(&l), 0);
	CHECK_EQ(evloop_start_thread(&l, "t"), 0);
	usleep(10000);
	evloop_free(&l); /* stops and joins: returns instead of hanging */
	CHECK(l.epfd == -1);
}

static int counted;
static void on_count(void *opaque, uint32_t events)
{
	(void)events;
	efd_drain(*(int *)opaque);
	__atomic_fetch_add(&counted, 1, __ATOMIC_SEQ_CST);
}

/* A quiesced loop runs no handler until released, then catches up; freeing a quiesced loop
 * returns (its thread is woken to stop). */
static void test_quiesce_release(void)
{
	struct evloop l;
	int fd = eventfd(0, EFD_NONBLOCK);
	CHECK_EQ(evloop_init(&l), 0);
	evloop_quiesce(&l); /* no thread yet: returns at once */
	evloop_release(&l);
	CHECK_EQ(evloop_add(&l, fd, EPOLLIN, on_count, &fd), 0);
	CHECK_EQ(evloop_start_thread(&l, "t"), 0);
	efd_signal(fd);
	for (int i = 0; i < 500 && __atomic_load_n(&counted, __ATOMIC_SEQ_CST) < 1; i++)
		usleep(10000);
	CHECK_EQ(__atomic_load_n(&counted, __ATOMIC_SEQ_CST), 1);
	for (int round = 0; round < 3; round++) {
		evloop_quiesce(&l);
		CHECK(evloop_is_quiesced(&l));
		efd_signal(fd);
		usleep(100000);
		CHECK_EQ(__atomic_load_n(&counted, __ATOMIC_SEQ_CST), 1 + round);
		evloop_release(&l);
		for (int i = 0; i < 500 && __atomic_load_n(&counted, __ATOMIC_SEQ_CST) < 2 + round; i++)
			usleep(10000);
		CHECK_EQ(__atomic_load_n(&counted, __ATOMIC_SEQ_CST), 2 + round);
	}
	evloop_quiesce(&l);
	evloop_free(&l);
	CHECK(l.epfd == -1);
	close(fd);
}

int main(void)
{
	RUN(test_delete_in_callback_frees);
	RUN(test_many_cycles_do_not_accumulate);
	RUN(test_add_failure_leaves_nothing);
	RUN(test_stop_from_thread);
	RUN(test_quiesce_release);
	UNIT_EXIT();
}
