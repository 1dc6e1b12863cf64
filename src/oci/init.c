/* The container init, from clone to exec: the handshake with the runtime, namespaces,
 * root file system, hooks, terminal, then the wait for `start`. Runs in the child; every
 * failure is reported over the sync socket (oci_child_fail) and ends the process. */
#include "init.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hooks.h"
#include "mounts.h"
#include "process.h"
#include "sync.h"
#include "terminal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int oci_join_namespaces(struct oci_ctx *c, bool pid_too, cap_err *err)
{
	/* The user namespace first: it owns the others and grants the rights to join them. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < c->n_ns_fd; i++) {
			int f = c->ns_flag[i];
			if ((pass == 0) != (f == CLONE_NEWUSER))
				continue;
			if (f == CLONE_NEWUSER && c->userns_joined)
				continue;   /* the intermediate process joined it before cloning us */
			if (f == CLONE_NEWPID && !pid_too)
				continue;
			if (setns(c->ns_fd[i], f) < 0)
				return cap_errf(err, errno, "cannot join the %s namespace", oci_ns_name(f));
		}
	return 0;
}

/* Until GO: make the process safe to be seen from the container, and learn the hook state. */
static void init_handshake(struct oci_ctx *c, int fd)
{
	char *msg = malloc(SYNC_MAX);
	int r;

	if (!msg)
		_exit(1);
	/* flock belongs to the open file: a copy here would keep the state locked. */
	if (c->state_fd >= 0)
		close(c->state_fd);
	/* Until it execs, the init is the runtime binary: a process in the container (exec,
	 * or one sharing a pid namespace) must not open /proc/<init>/exe or its memory and
	 * write the host's binary (CVE-2019-5736). execve makes the program dumpable again. */
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Cloned by an intermediate process: the runtime learns our pid from this message's
	 * credentials (SO_PASSCRED), translated to its pid namespace. */
	if (c->userns_joined && oci_sync_send(fd, SYNC_PID) < 0)
		_exit(1);
	r = oci_sync_recv(fd, msg, SYNC_MAX);
	if (r <= 0 || msg[0] != SYNC_GO)
		_exit(1);
	if (r > 1)
		c->hook_state = strdup(msg + 1);
	free(msg);
	c->sync_fd = fd;
	c->cgroup_seen = 0;
	if ((c->spec->clone_flags & CLONE_NEWCGROUP) && oci_child_wait_cgroup(c, true) < 0)
		_exit(1);
}

/* Namespaces given by path, those clone() cannot make, and the identity inside them. */
static int init_namespaces(struct oci_ctx *c, cap_err *err)
{
	struct oci_spec *s = c->spec;
	int r;

	if ((r = oci_join_namespaces(c, false, err)) < 0)
		return r;
	/* Created now rather than at clone: a cgroup namespace is rooted at the cgroup we are in
	 * (the parent has just moved us), and clone() cannot take CLONE_NEWTIME. */
	if ((s->clone_flags & (CLONE_NEWCGROUP | CLONE_NEWTIME)) &&
	    unshare(s->clone_flags & (CLONE_NEWCGROUP | CLONE_NEWTIME)) < 0)
		return cap_errf(err, errno, "cannot create the %s namespace",
				(s->clone_flags & CLONE_NEWTIME) ? "cgroup or time" : "cgroup");
	if (*s->time_offsets) {
		int tfd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (tfd < 0 || write(tfd, s->time_offsets, strlen(s->time_offsets)) < 0)
			return cap_errf(err, errno, "linux.timeOffsets: cannot set");
		close(tfd);
	}
	if (((s->clone_flags & CLONE_NEWUSER) || c->userns_joined) &&
	    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return cap_errf(err, errno, "cannot become root in the user namespace");
	if (setsid() < 0 && errno != EPERM)
		return cap_errf(err, errno, "setsid");
	if (s->hostname && (s->clone_flags & CLONE_NEWUTS) &&
	    sethostname(s->hostname, strlen(s->hostname)) < 0)
		return cap_errf(err, errno, "cannot set hostname '%s'", s->hostname);
	if (s->domainname && (s->clone_flags & CLONE_NEWUTS) &&
	    setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return cap_errf(err, errno, "cannot set domainname '%s'", s->domainname);
	return 0;
}

/* prestart/createRuntime run in the runtime's namespaces: the parent runs them. */
static void init_runtime_hooks(struct oci_ctx *c, int fd)
{
	const struct oci_hooks *h = &c->spec->hooks;
	if (!h->n[HOOK_PRESTART] && !h->n[HOOK_CREATE_RUNTIME])
		return;
	if (oci_sync_send(fd, SYNC_RUN_HOOKS) < 0 || oci_sync_wait(fd, SYNC_HOOKS_DONE, &c->cgroup_seen) < 0)
		_exit(1);
}

static int init_sysctl(const struct oci_spec *s, cap_err *err)
{
	for (size_t i = 0; i < s->n_sysctl; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "/proc/sys/%s", s->sysctl[i].key);
		for (char *q = p + 10; *q; q++)
			if (*q == '.')
				*q = '/';
		int sfd = open(p, O_WRONLY | O_CLOEXEC);
		if (sfd < 0 || write(sfd, s->sysctl[i].value, strlen(s->sysctl[i].value)) < 0)
			return cap_errf(err, errno, "linux.sysctl: cannot set %s", s->sysctl[i].key);
		close(sfd);
	}
	return 0;
}

static int init_terminal(struct oci_ctx *c, cap_err *err)
{
	if (!c->proc->terminal)
		return 0;
	if (c->console_fd < 0)
		return cap_errf(err, 0, "process.terminal is set but no --console-socket was given");
	int r = oci_terminal_setup(c->console_fd, c->proc, err);
	if (r < 0)
		return r;
	close(c->console_fd);
	c->console_fd = -1;
	return 0;
}

/* Everything before "ready", in the order the runtime-spec gives. */
static void init_build(struct oci_ctx *c, int fd)
{
	cap_err err = { 0 };
	/* The fifo is reopened through /proc/self/fd once the root is the container's, which
	 * may have no /proc (no mount namespace of its own, or a joined one): keep a handle
	 * on our fd directory from the runtime's /proc. */
	if (c->fifo_fd >= 0 && (c->fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		cap_errf(&err, errno, "cannot open /proc/self/fd");
		oci_child_fail(fd, &err);
	}
	if (init_namespaces(c, &err) < 0 || oci_rootfs_setup(c, &err) < 0)
		oci_child_fail(fd, &err);
	init_runtime_hooks(c, fd);
	if (oci_hooks_run(&c->spec->hooks, HOOK_CREATE_CONTAINER, c->hook_state, false, &err) < 0 ||
	    oci_rootfs_pivot(c, &err) < 0 || init_sysctl(c->spec, &err) < 0 || init_terminal(c, &err) < 0 ||
	    oci_rootfs_finish(c, &err) < 0 || oci_process_prepare(c, &err) < 0)
		oci_child_fail(fd, &err);
}

/* Opening blocks until `start` opens the fifo for reading. The byte goes first and the
 * fifo stays open (close-on-exec): `start` reads until EOF, so it returns only once the
 * program runs, after the startContainer hooks, and whatever else it reads is the reason
 * the init could not get there. */
static void __attribute__((noreturn)) init_wait_start_and_exec(struct oci_ctx *c)
{
	cap_err err = { 0 };
	if (c->fifo_fd >= 0) {
		char n[16];
		snprintf(n, sizeof(n), "%d", c->fifo_fd);
		int w = openat(c->fd_dir, n, O_WRONLY | O_CLOEXEC);
		if (w < 0) {
			cap_errf(&err, errno, "cannot open exec fifo");
			oci_child_fail_late(c, &err);
		}
		close(c->fifo_fd);
		close(c->fd_dir);
		c->fifo_fd = c->fd_dir = -1;
		if (write(w, "0", 1) != 1)
			_exit(127);
		c->late_fd = w;
	}
	if (oci_hooks_run(&c->spec->hooks, HOOK_START_CONTAINER, c->hook_state, false, &err) < 0)
		oci_child_fail_late(c, &err);
	oci_process_exec(c);
}

void oci_init_run(struct oci_ctx *c, int fd)
{
	cap_err err = { 0 };
	init_handshake(c, fd);
	init_build(c, fd);
	/* From here the init must outlive `create`. */
	if (oci_child_wait_cgroup(c, true) < 0)
		_exit(1);
	/* The user, capabilities, no_new_privs and seccomp: what can still fail is refused
	 * by `create` (runc's order). A seccomp filter now also covers the few calls the init
	 * still makes: write on the socket, openat and write on the fifo, execve. */
	prctl(PR_SET_PDEATHSIG, 0);
	if (oci_process_finish(c, &err) < 0)
		oci_child_fail(fd, &err);
	if (write(fd, (char[]){ SYNC_READY }, 1) != 1)
		_exit(1);
	/* Without a fifo (run) the socket, close-on-exec, stays open: `run` sees EOF once the
	 * program runs and only then runs poststart. */
	if (c->fifo_fd >= 0)
		close(fd);
	else
		c->late_fd = fd;
	init_wait_start_and_exec(c);
}
