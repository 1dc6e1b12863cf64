/* A device queue behind a rate limiter (../ratelimit.h): a request that does not pass stays in
 * the ring, the queue stops, and a timerfd on the I/O loop, armed for exactly when the buckets
 * will allow it, resumes the queue. Nothing polls; while a queue waits, the I/O thread serves
 * the other devices. Used under the device's lock, but for throttle_attach. */
#ifndef CAPSULE_VMM_VIRTIO_THROTTLE_H
#define CAPSULE_VMM_VIRTIO_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "../../lib/error.h"
#include "../../lib/evloop.h"
#include "../ratelimit.h"

struct throttle {
	struct rate_limiter rl;
	int tfd;                        /* timerfd (made even without a limit, which throttle_set may add) */
	bool waiting;                   /* the timer is armed: nothing passes until it fires */
	void (*resume)(void *opaque);   /* called on the I/O thread when the timer fires (no lock held) */
	void *opaque;
	uint64_t resumes;               /* timer-driven resumes (tests, --debug) */
};

/* No limit when c is all zero (everything passes until throttle_set gives one). */
int throttle_init(struct throttle *th, const struct rl_config *c, void (*resume)(void *), void *opaque,
		  cap_err *err);
int throttle_attach(struct throttle *th, struct evloop *io);
/* May a request of `bytes` go now? If not, the timer is armed (once) and false returned: the
 * caller leaves the request in its ring and stops the queue. */
bool throttle_admit(struct throttle *th, uint64_t bytes);
bool throttle_waiting(const struct throttle *th);
/* A new limit, in force at once (buckets full, as at start; lock held): a queue waiting under the
 * old one is resumed by its timer right away and goes on under the new one. */
int throttle_set(struct throttle *th, const struct rl_config *c, cap_err *err);
/* From the resume callback, with the device's lock held: the wait is over. */
void throttle_fired(struct throttle *th);
void throttle_destroy(struct throttle *th);

#endif
