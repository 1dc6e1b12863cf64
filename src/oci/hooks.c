/* OCI hooks: each runs with the container state on stdin; a non-zero exit or a timeout
 * fails the operation (poststart/poststop only warn, as the runtime-spec says). */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"

static const char *const kind_names[HOOK_KINDS] = { "prestart", "createRuntime", "createContainer",
						     "startContainer", "poststart", "poststop" };

static int run_one(const struct oci_hook *h, const char *state, int *status)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(in[0]);
		close(in[1]);
		return -e;
	}
	if (pid == 0) {
		static const char *const noenv[] = { NULL };
		const char *argv0[] = { h->path, NULL };
		sigset_t none;
		dup2(in[0], 0);
		signal(SIGPIPE, SIG_DFL);
		/* The caller (`run`) may block the signals it forwards; the hook starts with none. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(h->path, (char *const *)(h->args && h->args[0] ? h->args : argv0),
		       (char *const *)(h->env ? h->env : noenv));
		_exit(127);
	}
	close(in[0]);
	/* The timeout covers feeding stdin too: a hook that neither reads nor exits must not
	 * block us on a full pipe (state JSON > 64 KiB). SIGPIPE is blocked while writing. */
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long deadline = h->timeout > 0 && pfd >= 0 ?
		(long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 + h->timeout * 1000LL : -1;
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, &old);
	size_t len = state ? strlen(state) : 0, off = 0;
	bool timed_out = false;
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	for (;;) {
		int wait_ms = -1;
		if (deadline >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			long long left = deadline - ((long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
			if (left <= 0) {
				timed_out = true;
				break;
			}
			wait_ms = left > 1000000 ? 1000000 : (int)left;
		}
		while (off < len) {
			ssize_t n = write(in[1], state + off, len - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		if (off < len && errno == EAGAIN) {
			/* Stdin full: wait until the hook reads, exits or time runs out. */
			struct pollfd p[2] = { { .fd = in[1], .events = POLLOUT }, { .fd = pfd, .events = POLLIN } };
			int r = poll(p, pfd >= 0 ? 2 : 1, wait_ms);
			if (r < 0 && errno != EINTR)
				break;
			if (r > 0 && pfd >= 0 && (p[1].revents & POLLIN))
				off = len;   /* exited without reading it all */
			if (r > 0 && (p[0].revents & (POLLERR | POLLHUP)))
				off = len;
			continue;
		}
		if (off < len && errno == EINTR)
			continue;
		/* all written, or the hook closed its stdin (EPIPE) */
		if (in[1] >= 0)
			close(in[1]);
		in[1] = -1;
		off = len;
		if (pfd < 0 || deadline < 0)
			break;
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int r = poll(&p, 1, wait_ms);
		if (r == 0)
			continue;   /* the deadline check above ends it */
		if (r < 0 && errno == EINTR)
			continue;
		break;
	}
	if (in[1] >= 0)
		close(in[1]);
	struct timespec pend = { 0, 0 };
	sigtimedwait(&set, NULL, &pend);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (timed_out) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (pfd >= 0)
			close(pfd);
		return -ETIMEDOUT;
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int oci_hooks_run(const struct oci_hooks *hooks, enum oci_hook_kind kind, const char *state,
		  bool warn_only, cap_err *err)
{
	for (size_t i = 0; i < hooks->n[kind]; i++) {
		const struct oci_hook *h = &hooks->h[kind][i];
		int status = 0;
		int r = run_one(h, state, &status);
		cap_err e = { 0 };
		if (r == -ETIMEDOUT)
			cap_errf(&e, 0, "hooks.%s[%zu]: %s timed out after %d s", kind_names[kind], i, h->path,
				 h->timeout);
		else if (r < 0)
			cap_errf(&e, -r, "hooks.%s[%zu]: cannot run %s", kind_names[kind], i, h->path);
		else if (!WIFEXITED(status) || WEXITSTATUS(status))
			cap_errf(&e, 0, "hooks.%s[%zu]: %s failed with %s %d", kind_names[kind], i, h->path,
				 WIFEXITED(status) ? "exit status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		if (!e.set)
			continue;
		if (warn_only) {
			cap_warn("%s", e.msg);
			continue;
		}
		if (!err->set)
			*err = e;   /* e.msg already ends with the strerror text */
		return e.errnum ? -e.errnum : -EINVAL;
	}
	return 0;
}
