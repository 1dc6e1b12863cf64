/* Cloning the container init and the parent/child handshake. */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/log.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Sync messages (one datagram each). parent -> child: 'G' [hook state JSON] once the id
 * maps are written, 'D' once the cgroup directories exist, 'C' once the child is in its
 * cgroups, 'K' after the runtime hooks ran;
 * child -> parent: 'H' (run the runtime hooks now), 'R' ready, 'E' <error message>.
 * Moving a task between v1 cgroups waits for an RCU grace period; the child builds its
 * root file system meanwhile and waits for 'D' before bind-mounting its cgroup and for 'C'
 * only before it must be inside (a cgroup namespace, or reporting ready). */
#define SYNC_MAX 65536

void oci_ctx_init(struct oci_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->sync_fd = c->console_fd = c->fifo_fd = c->state_fd = c->console_ours = -1;
	for (int i = 0; i < OCI_NS_COUNT; i++)
		c->ns_fd[i] = -1;
}

void oci_ctx_release(struct oci_ctx *c)
{
	if (c->sync_fd >= 0)
		close(c->sync_fd);
	if (c->console_fd >= 0)
		close(c->console_fd);
	if (c->console_ours >= 0)
		close(c->console_ours);
	if (c->fifo_fd >= 0)
		close(c->fifo_fd);
	for (int i = 0; i < c->n_ns_fd; i++)
		if (c->ns_fd[i] >= 0)
			close(c->ns_fd[i]);
	free(c->seccomp.filter);
	free(c->hook_state);
	c->sync_fd = c->console_fd = c->fifo_fd = c->console_ours = -1;
	c->n_ns_fd = 0;
	c->seccomp.filter = NULL;
	c->hook_state = NULL;
}

/* Child side: report an error and die. */
static void __attribute__((noreturn)) child_fail(int fd, cap_err *err)
{
	char buf[sizeof(err->msg) + 1];
	buf[0] = 'E';
	size_t n = strnlen(err->msg, sizeof(err->msg));
	memcpy(buf + 1, err->msg, n);
	if (fd < 0 || send(fd, buf, n + 1, MSG_NOSIGNAL) < 0)
		fprintf(stderr, "capsule: %s\n", err->msg);
	_exit(1);
}

static int sync_recv(int fd, char *buf, size_t sz)
{
	ssize_t n;
	do
		n = recv(fd, buf, sz - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

/* Wait for message `want` from the parent. 'D' and 'C' come in that order and may arrive
 * while we wait for something else: *seen remembers the last of them. */
static int child_wait(int fd, char want, char *seen)
{
	char b[8];
	if ((want == 'D' && *seen) || (want == 'C' && *seen == 'C'))
		return 0;
	for (;;) {
		if (sync_recv(fd, b, sizeof(b)) <= 0)
			return -1;
		if (b[0] == 'D' || b[0] == 'C')
			*seen = b[0];
		if (b[0] == want || (want == 'D' && b[0] == 'C'))
			return 0;
	}
}

int oci_child_wait_cgroup(struct oci_ctx *c, bool joined)
{
	return child_wait(c->sync_fd, joined ? 'C' : 'D', &c->cgroup_seen);
}

static int join_namespaces(struct oci_ctx *c, bool pid_too, cap_err *err)
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

static int container_init(struct oci_ctx *c, int fd)
{
	cap_err err = { 0 };
	char *msg = malloc(SYNC_MAX);
	struct oci_spec *s = c->spec;
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
	if (c->userns_joined && send(fd, "P", 1, MSG_NOSIGNAL) < 0)
		_exit(1);
	r = sync_recv(fd, msg, SYNC_MAX);
	if (r <= 0 || msg[0] != 'G')
		_exit(1);
	if (r > 1)
		c->hook_state = strdup(msg + 1);
	free(msg);
	c->sync_fd = fd;
	c->cgroup_seen = 0;
	if ((s->clone_flags & CLONE_NEWCGROUP) && oci_child_wait_cgroup(c, true) < 0)
		_exit(1);

	if ((r = join_namespaces(c, false, &err)) < 0)
		child_fail(fd, &err);
	/* Created now rather than at clone: a cgroup namespace is rooted at the cgroup we are in
	 * (the parent has just moved us), and clone() cannot take CLONE_NEWTIME. */
	if ((s->clone_flags & (CLONE_NEWCGROUP | CLONE_NEWTIME)) &&
	    unshare(s->clone_flags & (CLONE_NEWCGROUP | CLONE_NEWTIME)) < 0) {
		cap_errf(&err, errno, "cannot create the %s namespace",
			 (s->clone_flags & CLONE_NEWTIME) ? "cgroup or time" : "cgroup");
		child_fail(fd, &err);
	}
	if (*s->time_offsets) {
		int tfd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (tfd < 0 || write(tfd, s->time_offsets, strlen(s->time_offsets)) < 0) {
			cap_errf(&err, errno, "linux.timeOffsets: cannot set");
			child_fail(fd, &err);
		}
		close(tfd);
	}
	if ((s->clone_flags & CLONE_NEWUSER) || c->userns_joined) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
			cap_errf(&err, errno, "cannot become root in the user namespace");
			child_fail(fd, &err);
		}
	}
	if (setsid() < 0 && errno != EPERM) {
		cap_errf(&err, errno, "setsid");
		child_fail(fd, &err);
	}
	if (s->hostname && (s->clone_flags & CLONE_NEWUTS) &&
	    sethostname(s->hostname, strlen(s->hostname)) < 0) {
		cap_errf(&err, errno, "cannot set hostname '%s'", s->hostname);
		child_fail(fd, &err);
	}
	if (s->domainname && (s->clone_flags & CLONE_NEWUTS) &&
	    setdomainname(s->domainname, strlen(s->domainname)) < 0) {
		cap_errf(&err, errno, "cannot set domainname '%s'", s->domainname);
		child_fail(fd, &err);
	}
	if ((r = oci_rootfs_setup(c, &err)) < 0)
		child_fail(fd, &err);
	if (s->hooks.n[HOOK_PRESTART] || s->hooks.n[HOOK_CREATE_RUNTIME]) {
		if (send(fd, "H", 1, MSG_NOSIGNAL) < 0 || child_wait(fd, 'K', &c->cgroup_seen) < 0)
			_exit(1);
	}
	if ((r = oci_hooks_run(&s->hooks, HOOK_CREATE_CONTAINER, c->hook_state, false, &err)) < 0)
		child_fail(fd, &err);
	if ((r = oci_rootfs_pivot(c, &err)) < 0)
		child_fail(fd, &err);
	for (size_t i = 0; i < s->n_sysctl; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "/proc/sys/%s", s->sysctl[i].key);
		for (char *q = p + 10; *q; q++)
			if (*q == '.')
				*q = '/';
		int sfd = open(p, O_WRONLY | O_CLOEXEC);
		if (sfd < 0 || write(sfd, s->sysctl[i].value, strlen(s->sysctl[i].value)) < 0) {
			cap_errf(&err, errno, "linux.sysctl: cannot set %s", s->sysctl[i].key);
			child_fail(fd, &err);
		}
		close(sfd);
	}
	if (c->proc->terminal) {
		if (c->console_fd < 0) {
			cap_errf(&err, 0, "process.terminal is set but no --console-socket was given");
			child_fail(fd, &err);
		}
		if ((r = oci_terminal_setup(c->console_fd, c->proc, &err)) < 0)
			child_fail(fd, &err);
		close(c->console_fd);
		c->console_fd = -1;
	}
	if ((r = oci_rootfs_finish(c, &err)) < 0)
		child_fail(fd, &err);
	if ((r = oci_process_prepare(c, &err)) < 0)
		child_fail(fd, &err);

	/* From here the init must outlive `create`. */
	if (oci_child_wait_cgroup(c, true) < 0)
		_exit(1);
	prctl(PR_SET_PDEATHSIG, 0);
	if (send(fd, "R", 1, MSG_NOSIGNAL) < 0)
		_exit(1);
	/* Without a fifo (run) the socket, close-on-exec, stays open: `run` sees EOF once the
	 * program runs and only then runs poststart. */
	if (c->fifo_fd >= 0)
		close(fd);
	/* Opening blocks until `start` opens the fifo for reading. startContainer hooks run
	 * before the byte is written and the fifo stays open (close-on-exec) so that `start`
	 * sees EOF only once the program runs: poststart really comes after both. */
	int w = -1;
	if (c->fifo_fd >= 0) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", c->fifo_fd);
		w = open(p, O_WRONLY | O_CLOEXEC);
		if (w < 0) {
			fprintf(stderr, "capsule: cannot open exec fifo: %s\n", strerror(errno));
			_exit(127);
		}
		close(c->fifo_fd);
		c->fifo_fd = -1;
	}
	if (oci_hooks_run(&s->hooks, HOOK_START_CONTAINER, c->hook_state, false, &err) < 0) {
		fprintf(stderr, "capsule: %s\n", err.msg);
		_exit(127);
	}
	if (w >= 0 && write(w, "0", 1) != 1)
		_exit(127);
	if (oci_process_finish(c, &err) < 0) {
		fprintf(stderr, "capsule: %s\n", err.msg);
		_exit(127);
	}
	oci_process_exec(c);
}

static int write_idmap(pid_t pid, const char *file, const struct oci_idmap *m, size_t n,
		       cap_err *err)
{
	char p[64], buf[16384];   /* 340 lines of three 10-digit numbers fit */
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%u %u %u\n", m[i].container, m[i].host,
				      m[i].size);
	snprintf(p, sizeof(p), "/proc/%d/%s", pid, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cap_errf(err, errno, "cannot open %s", p);
	ssize_t w = write(fd, buf, o);
	int e = errno;
	close(fd);
	if (w < 0)
		return cap_errf(err, e, "cannot write the %s", file);
	return 0;
}

static int open_ns_paths(struct oci_ctx *c, cap_err *err)
{
	for (size_t i = 0; i < c->spec->n_ns; i++) {
		const struct oci_ns *ns = &c->spec->ns[i];
		if (!ns->path)
			continue;
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return cap_errf(err, errno, "config.json: linux.namespaces[%zu].path: cannot open %s",
					i, ns->path);
		c->ns_fd[c->n_ns_fd] = fd;
		c->ns_flag[c->n_ns_fd++] = ns->flag;
	}
	return 0;
}

/* The child may have failed (and said why) while we were busy: prefer its message. */
static int child_error(int fd, int r, cap_err *err)
{
	char buf[sizeof(err->msg) + 2];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n > 1 && buf[0] == 'E') {
		buf[n] = 0;
		cap_err_clear(err);
		return cap_errf(err, 0, "%s", buf + 1);
	}
	return r;
}

/* A user namespace given by path: the namespaces we create must belong to it, so they are
 * made by a clone from inside it. An intermediate process joins it and clones the init with
 * CLONE_PARENT (the init stays our child); the init's first message carries its pid. */
static int spawn_in_userns(struct oci_ctx *c, int userns_fd, unsigned long cf, int sv[2], pid_t *pidp,
			   cap_err *err)
{
	int one = 1, status = 0;
	if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		return cap_errf(err, errno, "setsockopt(SO_PASSCRED)");
	pid_t mid = fork();
	if (mid < 0)
		return cap_errf(err, errno, "fork");
	if (mid == 0) {
		cap_err e = { 0 };
		close(sv[0]);
		prctl(PR_SET_DUMPABLE, 0);
		if (setns(userns_fd, CLONE_NEWUSER) < 0) {
			cap_errf(&e, errno, "cannot join the user namespace");
			child_fail(sv[1], &e);
		}
		c->userns_joined = true;
		pid_t p = (pid_t)syscall(SYS_clone, cf | CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
		if (p < 0) {
			cap_errf(&e, errno, "cannot create the container process in the user namespace (clone)");
			child_fail(sv[1], &e);
		}
		if (p == 0) {
			container_init(c, sv[1]);
			_exit(1);
		}
		_exit(0);
	}
	/* Only the init holds the child's end now: EOF if it dies before its first word. */
	close(sv[1]);
	sv[1] = -1;
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	char buf[sizeof(err->msg) + 2];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	ssize_t n;
	do
		n = recvmsg(sv[0], &mh, status == 0 ? 0 : MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	int zero = 0;
	setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &zero, sizeof(zero));
	if (n > 1 && buf[0] == 'E') {
		buf[n] = 0;
		return cap_errf(err, 0, "%s", buf + 1);
	}
	struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
	if (n != 1 || buf[0] != 'P' || !ch || ch->cmsg_type != SCM_CREDENTIALS)
		return cap_errf(err, 0, "container init died before it started");
	struct ucred uc;
	memcpy(&uc, CMSG_DATA(ch), sizeof(uc));
	*pidp = uc.pid;
	return 0;
}

pid_t oci_container_spawn(struct oci_ctx *c, struct oci_state *st, cap_err *err)
{
	struct oci_spec *s = c->spec;
	int sv[2] = { -1, -1 };
	pid_t pid = -1;
	int r, pidns_fd = -1;
	char *msg = NULL;

	r = open_ns_paths(c, err);
	if (r < 0)
		return r;
	c->state_fd = st->dirfd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return cap_errf(err, errno, "socketpair");
	/* A pid namespace to join applies to the children we create from now on. */
	for (int i = 0; i < c->n_ns_fd; i++)
		if (c->ns_flag[i] == CLONE_NEWPID) {
			pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
			if (setns(c->ns_fd[i], CLONE_NEWPID) < 0) {
				r = cap_errf(err, errno, "cannot join the pid namespace");
				goto fail;
			}
		}
	unsigned long cf = (unsigned long)s->clone_flags & ~(unsigned long)(CLONE_NEWCGROUP | CLONE_NEWTIME);
	int userns_fd = -1;
	for (int i = 0; i < c->n_ns_fd; i++)
		if (c->ns_flag[i] == CLONE_NEWUSER)
			userns_fd = c->ns_fd[i];
	if (userns_fd >= 0) {
		if ((r = spawn_in_userns(c, userns_fd, cf, sv, &pid, err)) < 0)
			goto fail;
	} else {
		pid = (pid_t)syscall(SYS_clone, cf | SIGCHLD, NULL, NULL, NULL, NULL);
		if (pid < 0) {
			r = cap_errf(err, errno, "cannot create the container process (clone)");
			goto fail;
		}
		if (pid == 0) {
			close(sv[0]);
			container_init(c, sv[1]);
			_exit(1);
		}
	}
	if (sv[1] >= 0)
		close(sv[1]);
	sv[1] = -1;
	if (pidns_fd >= 0) {
		setns(pidns_fd, CLONE_NEWPID);
		close(pidns_fd);
		pidns_fd = -1;
	}

	if (s->clone_flags & CLONE_NEWUSER) {
		if ((r = write_idmap(pid, "uid_map", s->uidmap, s->n_uidmap, err)) < 0 ||
		    (r = write_idmap(pid, "gid_map", s->gidmap, s->n_gidmap, err)) < 0)
			goto fail;
	}
	st->pid = pid;
	st->starttime = oci_proc_starttime(pid);
	/* Hooks get the state with the pid; build it only when a hook will read it. */
	{
		size_t len = 0;
		char *hs = NULL;
		bool any = false;
		for (int k = 0; k < HOOK_KINDS; k++)
			any |= s->hooks.n[k] > 0;
		if (any) {
			st->status = ST_CREATING;
			json_object_set_new(st->j, "pid", json_integer(pid));
			json_t *pub = oci_state_public(st);
			hs = json_dumps(pub, JSON_COMPACT);
			json_decref(pub);
			c->hook_state = hs;
			len = hs ? strlen(hs) : 0;
		}
		msg = malloc(len + 2);
		if (!msg) {
			r = cap_errf(err, ENOMEM, "sync");
			goto fail;
		}
		msg[0] = 'G';
		if (len)
			memcpy(msg + 1, hs, len);
		if (send(sv[0], msg, len + 1, MSG_NOSIGNAL) < 0) {
			r = cap_errf(err, errno, "container init died before it started");
			goto fail;
		}
		free(msg);
		msg = NULL;
	}
	/* The cgroup is made while the child builds its rootfs. */
	if ((r = cg_create(&c->cg, c->cgpath, s->has_resources ? &s->res : NULL, &c->cg_made, err)) < 0)
		goto fail;
	if (send(sv[0], "D", 1, MSG_NOSIGNAL) < 0) {
		r = cap_errf(err, errno, "container init died before it started");
		goto fail;
	}
	/* The first v1 migration waits for an RCU grace period; the child keeps working. */
	if ((r = cg_enter(&c->cg, c->cgpath, pid, err)) < 0)
		goto fail;
	if (s->proc.has_oom_score_adj) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d", pid);
		cap_err tmp = { 0 };
		if (cg_writef(p, "oom_score_adj", &tmp, "%d", s->proc.oom_score_adj) < 0) {
			cap_errf(err, 0, "process.oomScoreAdj: %s", tmp.msg);   /* has the strerror */
			r = tmp.errnum ? -tmp.errnum : -EINVAL;
			goto fail;
		}
	}
	if (send(sv[0], "C", 1, MSG_NOSIGNAL) < 0) {
		r = cap_errf(err, errno, "container init died before it started");
		goto fail;
	}
	if (c->spawned && (r = c->spawned(c, st, err)) < 0)
		goto fail;
	for (;;) {
		char buf[sizeof(err->msg) + 2];
		int n = sync_recv(sv[0], buf, sizeof(buf));
		if (n <= 0) {
			int status = 0;
			waitpid(pid, &status, 0);
			pid = -1;
			r = cap_errf(err, 0, "container init exited during setup (status %d)",
				     WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
			goto fail;
		}
		if (buf[0] == 'E') {
			r = cap_errf(err, 0, "%s", buf + 1);
			goto fail;
		}
		if (buf[0] == 'H') {
			if ((r = oci_hooks_run(&s->hooks, HOOK_PRESTART, c->hook_state, false, err)) < 0 ||
			    (r = oci_hooks_run(&s->hooks, HOOK_CREATE_RUNTIME, c->hook_state, false, err)) < 0)
				goto fail;
			if (send(sv[0], "K", 1, MSG_NOSIGNAL) < 0) {
				r = cap_errf(err, errno, "container init died during hooks");
				goto fail;
			}
			continue;
		}
		if (buf[0] == 'R')
			break;
	}
	if (c->fifo_fd < 0) {
		/* run: wait for the exec (EOF); a failure after 'R' shows in the exit status. */
		char b[8];
		while (sync_recv(sv[0], b, sizeof(b)) > 0)
			;
	}
	close(sv[0]);
	return pid;
fail:
	if (sv[0] >= 0)
		r = child_error(sv[0], r, err);
	free(msg);
	if (pidns_fd >= 0) {
		setns(pidns_fd, CLONE_NEWPID);
		close(pidns_fd);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return r;
}

pid_t oci_exec_spawn(struct oci_ctx *c, pid_t target, unsigned long long starttime, cap_err *err)
{
	static const int order[] = { CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET,
				     CLONE_NEWPID, CLONE_NEWCGROUP, 0x80 /* time */, CLONE_NEWNS };
	int sv[2] = { -1, -1 };
	int r;
	pid_t pid = -1;

	/* Pin the init: if it died (and its pid went to someone else) after `state` looked, the
	 * namespace files below would be another process's, or missing, and the process would
	 * run on the host. The pidfd proves the init is the same and alive once they are open. */
	int pfd = (int)syscall(SYS_pidfd_open, target, 0);
	if (pfd < 0)
		return cap_errf(err, errno == ESRCH ? 0 : errno, "container init %d is gone", target);
	if (starttime && oci_proc_starttime(target) != starttime) {
		close(pfd);
		return cap_errf(err, 0, "container init %d is gone (its pid was reused)", target);
	}
	/* Join every namespace the init has that differs from ours. */
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		char p[64], q[64];
		struct stat a, b;
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", target, oci_ns_proc_name(order[i]));
		snprintf(q, sizeof(q), "/proc/self/ns/%s", oci_ns_proc_name(order[i]));
		bool kernel_has = stat(q, &b) == 0;
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && !kernel_has && errno == ENOENT)
			continue;   /* a namespace type this kernel does not have */
		if (fd < 0 || fstat(fd, &a) < 0 || !kernel_has) {
			r = cap_errf(err, errno, "cannot open %s", p);
			if (fd >= 0)
				close(fd);
			close(pfd);
			return r;
		}
		if (a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			close(fd);
			continue;
		}
		c->ns_fd[c->n_ns_fd] = fd;
		c->ns_flag[c->n_ns_fd++] = order[i];
	}
	struct pollfd alive = { .fd = pfd, .events = POLLIN };
	r = poll(&alive, 1, 0);
	close(pfd);
	if (r != 0)
		return cap_errf(err, 0, "container init %d exited while exec joined it", target);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return cap_errf(err, errno, "socketpair");
	int own_pidns = -1;
	for (int i = 0; i < c->n_ns_fd; i++)
		if (c->ns_flag[i] == CLONE_NEWPID) {
			own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
			if (setns(c->ns_fd[i], CLONE_NEWPID) < 0) {
				r = cap_errf(err, errno, "cannot join the pid namespace");
				if (own_pidns >= 0)
					close(own_pidns);
				goto fail;
			}
		}
	pid = fork();
	/* Children we make later (none, or a sanitizer's helper) belong in our own pid namespace. */
	if (pid != 0 && own_pidns >= 0) {
		setns(own_pidns, CLONE_NEWPID);
		close(own_pidns);
	}
	if (pid < 0) {
		r = cap_errf(err, errno, "fork");
		goto fail;
	}
	if (pid == 0) {
		cap_err e = { 0 };
		char b[8];
		close(sv[0]);
		int fd = sv[1];
		/* Not dumpable before joining: see container_init (CVE-2019-5736). */
		prctl(PR_SET_DUMPABLE, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (sync_recv(fd, b, sizeof(b)) <= 0)
			_exit(1);
		if (join_namespaces(c, false, &e) < 0)
			child_fail(fd, &e);
		if (setsid() < 0 && c->proc->terminal) {
			cap_errf(&e, errno, "setsid");
			child_fail(fd, &e);
		}
		if (c->proc->terminal && c->console_fd >= 0) {
			if (oci_terminal_setup(c->console_fd, c->proc, &e) < 0)
				child_fail(fd, &e);
			close(c->console_fd);
		}
		if (oci_process_prepare(c, &e) < 0 || oci_process_finish(c, &e) < 0)
			child_fail(fd, &e);
		prctl(PR_SET_PDEATHSIG, 0);
		/* The socket is close-on-exec: EOF on the parent's side means exec worked. */
		oci_process_exec(c);
	}
	close(sv[1]);
	sv[1] = -1;
	if ((r = cg_enter(&c->cg, c->cgpath, pid, err)) < 0)
		goto fail;
	if (send(sv[0], "G", 1, MSG_NOSIGNAL) < 0) {
		r = cap_errf(err, errno, "exec process died");
		goto fail;
	}
	{
		char buf[sizeof(err->msg) + 2];
		int n = sync_recv(sv[0], buf, sizeof(buf));
		if (n > 0 && buf[0] == 'E') {
			r = cap_errf(err, 0, "%s", buf + 1);
			goto fail;
		}
	}
	close(sv[0]);
	return pid;
fail:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return r;
}
