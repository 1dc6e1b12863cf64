/* The snapshot schedule of `capsule vm run` (run_snapshot.h). */
#include "run_snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "../lib/log.h"
#include "machine.h"

#define AFTER_MS_MAX (1000ull * 3600 * 24 * 365)

int run_snapshot_parse(const char *spec, struct vmm_snapshot_at *a, cap_err *err)
{
	bool have_after = false;
	memset(a, 0, sizeof(*a));
	if (!(a->buf = strdup(spec)))
		return cap_errf(err, ENOMEM, "snapshot %s", spec);
	for (char *f = a->buf, *next; f; f = next) {
		next = strchr(f, ',');
		if (next)
			*next++ = 0;
		if (!strncmp(f, "after=", 6)) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(f + 6, &end, 10);
			if (f[6] < '0' || f[6] > '9' || *end || errno || v > AFTER_MS_MAX)
				goto bad_after;
			a->after_ms = v;
			have_after = true;
		} else if (!strcmp(f, "on=usr1")) {
			a->on_usr1 = true;
		} else if (!strncmp(f, "state=", 6) && f[6]) {
			a->p.state_path = f + 6;
		} else if (!strncmp(f, "mem=", 4) && f[4]) {
			a->p.mem_path = f + 4;
		} else if (!strcmp(f, "diff")) {
			a->p.diff = true;
		} else {
			cap_errf_code(err, CAP_EXIT_USAGE, 0, "snapshot '%s': unknown or empty field '%s' (want "
				      "after=MS|on=usr1,state=PATH,mem=PATH[,diff])", spec, f);
			goto fail;
		}
	}
	if (have_after == a->on_usr1 || !a->p.state_path || !a->p.mem_path) {
		cap_errf_code(err, CAP_EXIT_USAGE, 0,
			      "snapshot '%s': after=MS or on=usr1 (one of them), state=PATH and mem=PATH are all needed",
			      spec);
		goto fail;
	}
	return 0;
bad_after:
	cap_errf_code(err, CAP_EXIT_USAGE, 0, "snapshot '%s': after= wants milliseconds, 0 to %llu", spec,
		      AFTER_MS_MAX);
fail:
	run_snapshot_at_free(a);
	return -EINVAL;
}

void run_snapshot_at_free(struct vmm_snapshot_at *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

int run_snapshots_check(const struct vmm_snapshot_at *at, int n, bool restored, cap_err *err)
{
	for (int i = 1; i < n; i++)
		if (!at[i].on_usr1 && !at[i - 1].on_usr1 && at[i].after_ms < at[i - 1].after_ms)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0,
					     "snapshot %d: after=%llu comes before the previous one's after=%llu", i + 1,
					     (unsigned long long)at[i].after_ms, (unsigned long long)at[i - 1].after_ms);
	/* A restored VM's base is the memory file it was restored from. */
	if (n > 0 && at[0].p.diff && !restored)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "snapshot 1: a diff needs a base: take a full snapshot first");
	return 0;
}

bool run_snapshots_need_dirty_log(const struct vmm_snapshot_at *at, int n)
{
	for (int i = 0; i < n; i++)
		if (at[i].p.diff)
			return true;
	return false;
}

static int arm(struct run_snapshots *s)
{
	if (s->at[s->next].on_usr1) /* waits for run_snapshots_signal */
		return timerfd_settime(s->tfd, 0, &(struct itimerspec){ 0 }, NULL) < 0 ? -errno : 0;
	uint64_t due = s->t0_ns + s->at[s->next].after_ms * 1000000ull, now = vm_now_ns();
	uint64_t wait = due > now ? due - now : 1; /* 0 would disarm the timer */
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(wait / 1000000000ull),
						.tv_nsec = (long)(wait % 1000000000ull) } };
	return timerfd_settime(s->tfd, 0, &its, NULL) < 0 ? -errno : 0;
}

static void fail(struct run_snapshots *s, int r)
{
	s->r = r < 0 ? r : -EIO;
	evloop_stop(s->loop);
}

static void take_due(struct run_snapshots *s);

static void on_timer(void *opaque, uint32_t events)
{
	struct run_snapshots *s = opaque;
	uint64_t ticks;
	(void)events;
	if (read(s->tfd, &ticks, sizeof(ticks)) != sizeof(ticks) || s->next >= s->n || s->r ||
	    s->at[s->next].on_usr1)
		return;
	take_due(s);
}

void run_snapshots_signal(struct run_snapshots *s)
{
	if (s->n > 0 && s->next < s->n && !s->r && s->at[s->next].on_usr1)
		take_due(s);
}

/* Pause, write the next snapshot and every one due with it, then resume or end the run. */
static void take_due(struct run_snapshots *s)
{
	enum vm_state st = vm_get_state(s->vm);
	if (st == VM_STOPPED)
		return; /* the guest ended first: the main loop is stopping already */
	if (st == VM_RUNNING) {
		int r = vm_pause(s->vm, &s->err);
		if (r < 0)
			return fail(s, r);
	}
	uint64_t elapsed_ms = (vm_now_ns() - s->t0_ns) / 1000000ull;
	do {
		const struct vmm_snapshot_at *a = &s->at[s->next];
		struct vm_snapshot_params p = a->p;
		p.resume = false;
		uint64_t t = vm_now_ns();
		int r = vm_snapshot_create(s->vm, &p, &s->err);
		if (r < 0)
			return fail(s, r);
		cap_info("snapshot %d%s written after %llu ms in %.2f ms: %s, %s", s->next + 1, p.diff ? " (diff)" : "",
			 (unsigned long long)elapsed_ms, (double)(vm_now_ns() - t) / 1e6, p.state_path, p.mem_path);
		s->next++;
	} while (s->next < s->n && !s->at[s->next].on_usr1 && s->at[s->next].after_ms <= elapsed_ms);
	if (s->next == s->n) {
		s->done = true;
		evloop_stop(s->loop);
		return;
	}
	int r = arm(s);
	if (r == 0 && st == VM_RUNNING)
		r = vm_resume(s->vm, &s->err);
	if (r < 0)
		fail(s, r < 0 ? r : -EIO);
}

int run_snapshots_start(struct run_snapshots *s, struct vm *vm, struct evloop *loop,
			const struct vmm_snapshot_at *at, int n, cap_err *err)
{
	memset(s, 0, sizeof(*s));
	s->tfd = -1;
	if (n <= 0)
		return 0;
	*s = (struct run_snapshots){ .vm = vm, .loop = loop, .at = at, .n = n, .tfd = -1, .t0_ns = vm_now_ns() };
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->tfd < 0)
		return cap_errf(err, errno, "snapshot timer");
	int r = arm(s);
	if (r == 0)
		r = evloop_add(loop, s->tfd, EPOLLIN, on_timer, s);
	if (r < 0)
		return cap_errf(err, -r, "snapshot timer");
	return 0;
}

void run_snapshots_free(struct run_snapshots *s)
{
	if (s->tfd >= 0)
		close(s->tfd);
	s->tfd = -1;
}
