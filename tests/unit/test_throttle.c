/* A rate-limited queue's waiting and resuming (src/vmm/virtio/throttle.c) on a real timerfd: a
 * request over the limit arms the timer and nothing passes while it waits; a new limit set while
 * waiting (the API's PATCH) re-arms the timer to fire at once, and the queue goes on under the new
 * limit; a limit can be added to a device made without one and removed again. */
#include <poll.h>

#include "unit.h"
#include "../../src/vmm/virtio/throttle.h"

static void no_resume(void *opaque)
{
	(void)opaque;
}

/* The timer fired within 5 s (it is armed for about now); then the wait is over. */
static int fire(struct throttle *th)
{
	struct pollfd p = { .fd = th->tfd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1)
		return 0;
	throttle_fired(th);
	return 1;
}

static void test_wait_then_new_limit(void)
{
	struct throttle th;
	cap_err err = { 0 };
	struct rl_config hourly = { .ops = { 1, 0, 3600000 } }, fast = { .ops = { 1000, 0, 1000 } };
	CHECK_EQ(throttle_init(&th, &hourly, no_resume, NULL, &err), 0);
	CHECK(throttle_admit(&th, 0));
	CHECK(!throttle_admit(&th, 0)); /* the next op in an hour */
	CHECK(throttle_waiting(&th));
	CHECK(!throttle_admit(&th, 0)); /* still waiting: nothing passes */
	CHECK_EQ(throttle_set(&th, &fast, &err), 0);
	CHECK(fire(&th));
	CHECK(!throttle_waiting(&th));
	CHECK_EQ(th.resumes, 1);
	for (int i = 0; i < 1000; i++)
		CHECK(throttle_admit(&th, 0)); /* a full new bucket */
	CHECK(!throttle_admit(&th, 0));
	throttle_destroy(&th);
}

static void test_add_and_remove_limit(void)
{
	struct throttle th;
	cap_err err = { 0 };
	struct rl_config none = { 0 }, hourly = { .bw = { 4096, 0, 3600000 } };
	CHECK_EQ(throttle_init(&th, &none, no_resume, NULL, &err), 0);
	for (int i = 0; i < 100; i++)
		CHECK(throttle_admit(&th, 1 << 20));
	CHECK_EQ(throttle_set(&th, &hourly, &err), 0);
	CHECK(throttle_admit(&th, 4096));
	CHECK(!throttle_admit(&th, 4096));
	CHECK_EQ(throttle_set(&th, &none, &err), 0);
	CHECK(fire(&th));
	for (int i = 0; i < 100; i++)
		CHECK(throttle_admit(&th, 1 << 20));
	CHECK_EQ(th.rl.throttled, 0); /* the new (empty) limiter's count */
	throttle_destroy(&th);
}

int main(void)
{
	RUN(test_wait_then_new_limit);
	RUN(test_add_and_remove_limit);
	UNIT_EXIT();
}
