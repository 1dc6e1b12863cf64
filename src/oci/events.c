/* events: the container's resource usage (stats) and OOM kills, as `runc events` reports
 * them. OOM kills are noticed as they happen: on v1 through cgroup.event_control (an
 * eventfd signalled on memory.oom_control), on v2 through inotify on memory.events. */
#include "lifecycle.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgfile.h"
#include "cgroup-stats.h"

/* A running container as events and stats need it. */
struct watched {
	char cgpath[PATH_MAX];
	struct cg_layout cg;
	pid_t pid;
	unsigned long long start;
};

static int running_container(const struct oci_runtime *rt, const char *id, struct watched *w, cap_err *err)
{
	struct oci_state st;
	int r = oci_state_load(oci_root(rt), id, &st, err);
	if (r < 0)
		return r;
	if (st.status == ST_STOPPED || !st.cgroup)
		r = cap_errf(err, 0, "container %s is not running", id);
	else
		snprintf(w->cgpath, sizeof(w->cgpath), "%s", st.cgroup);
	w->pid = st.pid;
	w->start = st.starttime;
	if (r == 0 && (r = cg_layout_detect(&w->cg, err)) == 0)
		cg_layout_bind(&w->cg, json_object_get(st.j, "cgroupBases"));
	oci_state_close(&st);
	return r;
}

int oci_stats(const struct oci_runtime *rt, const char *id, json_t **data, cap_err *err)
{
	struct watched w;
	int r;
	*data = NULL;
	if ((r = running_container(rt, id, &w, err)) < 0)
		return r;
	*data = cg_stats(&w.cg, w.cgpath);
	return *data ? 0 : cap_errf(err, ENOMEM, "container %s: stats", id);
}

/* An fd that becomes readable when the OOM killer acts in the cgroup, or -1. */
static int oom_watch(const struct cg_layout *cg, const char *cgpath)
{
	char dir[2 * PATH_MAX];
	bool v2;
	if (cg_oom_file(cg, cgpath, dir, sizeof(dir), &v2) < 0)
		return -1;
	if (v2) {
		char p[2 * PATH_MAX + 16];
		int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		snprintf(p, sizeof(p), "%s/memory.events", dir);
		if (fd >= 0 && inotify_add_watch(fd, p, IN_MODIFY) < 0) {
			close(fd);
			fd = -1;
		}
		return fd;
	}
	char p[2 * PATH_MAX + 24], line[64];
	snprintf(p, sizeof(p), "%s/memory.oom_control", dir);
	int ofd = open(p, O_RDONLY | O_CLOEXEC);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cap_err tmp = { 0 };
	int r = -1;
	if (ofd >= 0 && efd >= 0) {
		snprintf(line, sizeof(line), "%d %d", efd, ofd);
		r = cg_write(dir, "cgroup.event_control", line, &tmp);
	}
	if (ofd >= 0)
		close(ofd);   /* the registration holds its own reference */
	if (r < 0 && efd >= 0) {
		close(efd);
		efd = -1;
	}
	return efd;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int emit(const char *type, const char *id, json_t *data, oci_event_cb cb, void *arg)
{
	json_t *ev = json_pack("{s:s,s:s}", "type", type, "id", id);
	if (!ev)
		return -ENOMEM;
	if (data)
		json_object_set_new(ev, "data", data);
	int r = cb(ev, arg);
	json_decref(ev);
	return r;
}

int oci_events(const struct oci_runtime *rt, const char *id, unsigned interval_ms, oci_event_cb cb,
	       void *arg, cap_err *err)
{
	struct watched w;
	int r;
	if ((r = running_container(rt, id, &w, err)) < 0)
		return r;
	const struct cg_layout *cg = &w.cg;
	const char *cgpath = w.cgpath;
	pid_t pid = w.pid;
	unsigned long long start = w.start;
	if (!interval_ms)
		interval_ms = 5000;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0 && oci_proc_starttime(pid) != start) {
		close(pfd);
		return 0;   /* stopped meanwhile */
	}
	int ofd = oom_watch(cg, cgpath);
	uint64_t ooms = cg_oom_kills(cg, cgpath);
	long long next = now_ms();
	r = 0;
	for (;;) {
		long long left = next - now_ms();
		if (left <= 0) {
			json_t *data = cg_stats(cg, cgpath);
			if (!data) {
				r = cap_errf(err, ENOMEM, "container %s: stats", id);
				break;
			}
			if ((r = emit("stats", id, data, cb, arg)) != 0)
				break;
			next += interval_ms;
			continue;
		}
		struct pollfd p[2] = { { .fd = pfd, .events = POLLIN }, { .fd = ofd, .events = POLLIN } };
		int n = poll(p, 2, (int)left);
		if (n < 0 && errno != EINTR) {
			r = cap_errf(err, errno, "events: poll");
			break;
		}
		if (n > 0 && p[1].revents) {
			char drain[4096];
			while (read(ofd, drain, sizeof(drain)) > 0)
				;
			uint64_t now = cg_oom_kills(cg, cgpath);
			/* v1's eventfd also fires when the cgroup goes away: only count real kills. */
			if (now > ooms && (r = emit("oom", id, NULL, cb, arg)) != 0)
				break;
			ooms = now;
		}
		if (pfd < 0 ? oci_proc_starttime(pid) != start : (n > 0 && p[0].revents))
			break;   /* the container stopped */
	}
	if (ofd >= 0)
		close(ofd);
	if (pfd >= 0)
		close(pfd);
	return r;
}
