/* Rate-limited queues (throttle.h): the ratelimit.h buckets on CLOCK_MONOTONIC and a timerfd. */
#include "throttle.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/log.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int throttle_init(struct throttle *th, const struct rl_config *c, void (*resume)(void *), void *opaque,
		  cap_err *err)
{
	*th = (struct throttle){ .tfd = -1, .resume = resume, .opaque = opaque };
	rl_init(&th->rl, c, now_ns());
	th->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (th->tfd < 0)
		return cap_errf(err, errno, "rate limiter: timerfd");
	return 0;
}

static void timer_event(void *opaque, uint32_t events)
{
	struct throttle *th = opaque;
	(void)events;
	th->resume(th->opaque);
}

int throttle_attach(struct throttle *th, struct evloop *io)
{
	return th->tfd < 0 ? 0 : evloop_add(io, th->tfd, EPOLLIN, timer_event, th);
}

static int arm(struct throttle *th, uint64_t wait)
{
	if (wait < 1000)
		wait = 1000;	/* a zero it_value would disarm the timer */
	struct itimerspec its = { .it_value = { (time_t)(wait / 1000000000ULL), (long)(wait % 1000000000ULL) } };
	return timerfd_settime(th->tfd, 0, &its, NULL);
}

bool throttle_admit(struct throttle *th, uint64_t bytes)
{
	if (th->tfd < 0 || !rl_enabled(&th->rl))
		return true;
	if (th->waiting)
		return false;
	uint64_t now = now_ns();
	if (rl_consume(&th->rl, bytes, now))
		return true;
	if (arm(th, rl_wait_ns(&th->rl, bytes, now)) < 0) {
		/* Cannot happen with a valid fd and value; admit rather than stall the queue forever. */
		cap_warn("rate limiter: timerfd_settime: %s", strerror(errno));
		return true;
	}
	th->waiting = true;
	return false;
}

bool throttle_waiting(const struct throttle *th)
{
	return th->waiting;
}

int throttle_set(struct throttle *th, const struct rl_config *c, cap_err *err)
{
	rl_init(&th->rl, c, now_ns());
	if (th->waiting && arm(th, 0) < 0)
		return cap_errf(err, errno, "rate limiter: timerfd_settime");
	return 0;
}

void throttle_fired(struct throttle *th)
{
	uint64_t n;
	if (th->tfd >= 0 && read(th->tfd, &n, sizeof(n)) == (ssize_t)sizeof(n) && th->waiting) {
		th->waiting = false;
		th->resumes++;
	}
}

void throttle_destroy(struct throttle *th)
{
	if (th->tfd >= 0)
		close(th->tfd);
	th->tfd = -1;
}
