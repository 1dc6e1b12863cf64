/* A detached container's monitor (conmon's job): a process of its own session that is the
 * parent of the container's init, holds its stdout and stderr, writes them to ctr.log as JSON
 * lines ({"time":..., "stream":"stdout"|"stderr", "log":"line\n"}), waits for the init,
 * records the exit status, drops the runtime state and the root mount, and goes. It is
 * started twice-forked, so the CLI that made it may exit (or be killed) at any time.
 * The CLI hears from it once: "ok" when the program runs, or the error that stopped it. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../oci/oci.h"

struct stream {
	int fd;
	const char *name;
	char buf[16384];
	size_t len;
};

static void log_line(FILE *log, const char *stream, const char *p, size_t n)
{
	char now[64];
	instance_now(now, sizeof(now));
	json_t *j = json_pack("{s:s, s:s, s:s%}", "time", now, "stream", stream, "log", p, n);
	if (!j) /* not UTF-8: jansson refuses it; keep the bytes' length visible rather than lose the line */
		j = json_pack("{s:s, s:s, s:s}", "time", now, "stream", stream, "log", "(binary output)\n");
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (s) {
		fprintf(log, "%s\n", s);
		free(s);
	}
	json_decref(j);
}

/* Read what is there; write every complete line (and a full buffer, or the rest at EOF). */
static bool pump(struct stream *st, FILE *log, bool eof_flush)
{
	ssize_t n = read(st->fd, st->buf + st->len, sizeof(st->buf) - st->len);
	bool open = n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
	if (n > 0)
		st->len += (size_t)n;
	size_t start = 0;
	for (size_t i = 0; i < st->len; i++)
		if (st->buf[i] == '\n') {
			log_line(log, st->name, st->buf + start, i + 1 - start);
			start = i + 1;
		}
	if (start == 0 && st->len == sizeof(st->buf)) {
		log_line(log, st->name, st->buf, st->len);
		start = st->len;
	}
	if ((!open || eof_flush) && start < st->len) {
		log_line(log, st->name, st->buf + start, st->len - start);
		start = st->len;
	}
	memmove(st->buf, st->buf + start, st->len - start);
	st->len -= start;
	fflush(log);
	return open;
}

static void report(int fd, const char *msg)
{
	if (fd >= 0 && write(fd, msg, strlen(msg)) < 0) {
		/* the CLI is gone: nobody to tell */
	}
}

static void monitor_main(struct store *s, struct instance *in, bool rm, int rp) __attribute__((noreturn));
static void monitor_main(struct store *s, struct instance *in, bool rm, int rp)
{
	char root[PATH_MAX], bundle[PATH_MAX + 16], logp[PATH_MAX + 16], now[64];
	cap_err err = { 0 };
	int out[2], errp[2], devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid = 0;
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	instance_oci_root(s, root, sizeof(root));
	snprintf(bundle, sizeof(bundle), "%s/bundle", in->dir);
	snprintf(logp, sizeof(logp), "%s/ctr.log", in->dir);
	struct oci_runtime rt = { .root = root };
	FILE *log = fopen(logp, "ae");
	if (!log || devnull < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		cap_errf(&err, errno, "container %.12s: its log and output pipes", in->id);
		goto fail;
	}
	/* The init inherits 0, 1 and 2: /dev/null and the write ends of the two pipes. */
	if (dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(errp[1], 2) < 0) {
		cap_errf(&err, errno, "container %.12s: its stdio", in->id);
		goto fail;
	}
	close(out[1]);
	close(errp[1]);
	struct oci_create_args ca = { .id = in->id, .bundle = bundle };
	if (oci_create(&rt, &ca, &pid, &err) < 0 || oci_start(&rt, in->id, &err) < 0)
		goto fail;
	/* From now on only the container holds the write ends: EOF means it closed them. */
	dup2(devnull, 1);
	dup2(devnull, 2);
	instance_now(now, sizeof(now));
	instance_set_str(in, "status", "running");
	instance_set_str(in, "started", now);
	instance_set_int(in, "pid", pid);
	instance_set_int(in, "monitor_pid", getpid());
	instance_save(in, &err);
	report(rp, "ok");
	close(rp);

	struct stream st[2] = { { .fd = out[0], .name = "stdout" }, { .fd = errp[0], .name = "stderr" } };
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool live[2] = { true, true }, exited = false;
	while (live[0] || live[1]) {
		struct pollfd p[3] = { { .fd = live[0] ? st[0].fd : -1, .events = POLLIN },
				       { .fd = live[1] ? st[1].fd : -1, .events = POLLIN },
				       { .fd = exited ? -1 : pidfd, .events = POLLIN } };
		/* Once the init is gone, whatever still holds the pipes gets a second to finish. */
		if (poll(p, 3, exited ? 1000 : -1) == 0)
			break;
		for (int i = 0; i < 2; i++)
			if (live[i] && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				live[i] = pump(&st[i], log, false);
		if (p[2].revents & POLLIN)
			exited = true;
	}
	for (int i = 0; i < 2; i++)
		if (st[i].len)
			pump(&st[i], log, true);
	fclose(log);
	int code = -1;
	oci_wait(&rt, in->id, &code, &err);
	engine_finish(s, in, code, rm);
	_exit(0);
fail: {
	char msg[sizeof(err.msg) + 2];
	snprintf(msg, sizeof(msg), "E%s", err.set ? err.msg : "the monitor failed");
	report(rp, msg);
	cap_err ignored = { 0 };
	oci_delete(&rt, in->id, true, &ignored);
	engine_net_cleanup(s, in);
	engine_unmount_root(in);
	instance_remove(s, in, &ignored);
	_exit(1);
}
}

int engine_monitor_start(struct store *s, struct instance *in, bool rm, cap_err *err)
{
	int rp[2];
	char msg[2048];
	if (pipe2(rp, O_CLOEXEC) < 0)
		return cap_errf(err, errno, "container %.12s: monitor pipe", in->id);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(rp[0]), close(rp[1]);
		return cap_errf(err, errno, "container %.12s: starting its monitor", in->id);
	}
	if (pid == 0) {
		close(rp[0]);
		setsid();
		/* The store's shared lock is the CLI's: a monitor holding it would block image rm forever. */
		store_close(s);
		pid_t p2 = fork();
		if (p2 != 0)
			_exit(p2 < 0);
		monitor_main(s, in, rm, rp[1]);
	}
	close(rp[1]);
	waitpid(pid, NULL, 0);
	ssize_t n, len = 0;
	while (len < (ssize_t)sizeof(msg) - 1 && (n = read(rp[0], msg + len, sizeof(msg) - 1 - (size_t)len)) > 0)
		len += n;
	close(rp[0]);
	msg[len < 0 ? 0 : len] = 0;
	if (!strcmp(msg, "ok"))
		return 1; /* the monitor owns the instance now */
	return cap_errf(err, 0, "%s", msg[0] == 'E' ? msg + 1 : "container monitor: exited without a word");
}
