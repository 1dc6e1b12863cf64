/* The runtime's side of making the container's processes: the init's clone and the
 * parent/child handshake (sync.h), and exec's process. */
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
#include "cgfile.h"
#include "cgshared.h"
#include "hooks.h"
#include "init.h"
#include "nsrecord.h"
#include "process.h"
#include "sync.h"
#include "terminal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

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
			oci_child_fail(sv[1], &e);
		}
		c->userns_joined = true;
		pid_t p = (pid_t)syscall(SYS_clone, cf | CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
		if (p < 0) {
			cap_errf(&e, errno, "cannot create the container process in the user namespace (clone)");
			oci_child_fail(sv[1], &e);
		}
		if (p == 0) {
			oci_init_run(c, sv[1]);
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
	if (n > 1 && buf[0] == SYNC_ERROR) {
		buf[n] = 0;
		return cap_errf(err, 0, "%s", buf + 1);
	}
	struct cmsghdr *ch = CMSG_FIRSTHDR(&mh);
	if (n != 1 || buf[0] != SYNC_PID || !ch || ch->cmsg_type != SCM_CREDENTIALS)
		return cap_errf(err, 0, "container init died before it started");
	struct ucred uc;
	memcpy(&uc, CMSG_DATA(ch), sizeof(uc));
	*pidp = uc.pid;
	return 0;
}

/* A pid namespace to join applies to the children we create from now on: join it before
 * the clone (*own_pidns keeps ours, to go back). */
static int enter_target_pidns(struct oci_ctx *c, int *own_pidns, cap_err *err)
{
	*own_pidns = -1;
	for (int i = 0; i < c->n_ns_fd; i++)
		if (c->ns_flag[i] == CLONE_NEWPID) {
			*own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
			if (setns(c->ns_fd[i], CLONE_NEWPID) < 0)
				return cap_errf(err, errno, "cannot join the pid namespace");
		}
	return 0;
}

static void leave_target_pidns(int *own_pidns)
{
	if (*own_pidns < 0)
		return;
	setns(*own_pidns, CLONE_NEWPID);
	close(*own_pidns);
	*own_pidns = -1;
}

/* Clone the init into its new namespaces (through an intermediate process when it must be
 * made inside a user namespace given by path). */
static int clone_init(struct oci_ctx *c, int sv[2], pid_t *pid, cap_err *err)
{
	unsigned long cf = (unsigned long)c->spec->clone_flags &
			   ~(unsigned long)(CLONE_NEWCGROUP | CLONE_NEWTIME);
	int userns_fd = -1;
	for (int i = 0; i < c->n_ns_fd; i++)
		if (c->ns_flag[i] == CLONE_NEWUSER)
			userns_fd = c->ns_fd[i];
	if (userns_fd >= 0)
		return spawn_in_userns(c, userns_fd, cf, sv, pid, err);
	*pid = (pid_t)syscall(SYS_clone, cf | SIGCHLD, NULL, NULL, NULL, NULL);
	if (*pid < 0) {
		*pid = -1;
		return cap_errf(err, errno, "cannot create the container process (clone)");
	}
	if (*pid == 0) {
		close(sv[0]);
		oci_init_run(c, sv[1]);
	}
	return 0;
}

/* Id maps, then GO with the state hooks will read (built only when a hook will). */
static int send_go(struct oci_ctx *c, struct oci_state *st, int fd, pid_t pid, cap_err *err)
{
	struct oci_spec *s = c->spec;
	int r;
	if ((s->clone_flags & CLONE_NEWUSER) &&
	    ((r = write_idmap(pid, "uid_map", s->uidmap, s->n_uidmap, err)) < 0 ||
	     (r = write_idmap(pid, "gid_map", s->gidmap, s->n_gidmap, err)) < 0))
		return r;
	st->pid = pid;
	st->starttime = oci_proc_starttime(pid);
	size_t len = 0;
	bool any = false;
	for (int k = 0; k < HOOK_KINDS; k++)
		any |= s->hooks.n[k] > 0;
	if (any) {
		st->status = ST_CREATING;
		json_object_set_new(st->j, "pid", json_integer(pid));
		json_t *pub = oci_state_public(st);
		c->hook_state = json_dumps(pub, JSON_COMPACT);
		json_decref(pub);
		len = c->hook_state ? strlen(c->hook_state) : 0;
	}
	char *msg = malloc(len + 2);
	if (!msg)
		return cap_errf(err, ENOMEM, "sync");
	msg[0] = SYNC_GO;
	if (len)
		memcpy(msg + 1, c->hook_state, len);
	r = send(fd, msg, len + 1, MSG_NOSIGNAL) < 0 ? cap_errf(err, errno, "container init died before it started") : 0;
	free(msg);
	return r;
}

static int set_oom_score_adj(pid_t pid, int adj, cap_err *err)
{
	char p[64];
	cap_err tmp = { 0 };
	snprintf(p, sizeof(p), "/proc/%d", pid);
	if (cg_writef(p, "oom_score_adj", &tmp, "%d", adj) < 0) {
		cap_errf(err, 0, "process.oomScoreAdj: %s", tmp.msg);   /* has the strerror */
		return tmp.errnum ? -tmp.errnum : -EINVAL;
	}
	return 0;
}

/* The cgroup is made while the child builds its rootfs: CGROUP_DIRS once the directories
 * exist, CGROUP_JOINED once the child is inside. */
static int place_in_cgroup(struct oci_ctx *c, struct oci_state *st, int fd, pid_t pid, cap_err *err)
{
	struct oci_spec *s = c->spec;
	int r;
	if ((r = cg_create(&c->cg, c->cgpath, s->has_resources ? &s->res : NULL, &c->cg_made, err)) < 0)
		return r;
	size_t foreign = oci_cg_foreign(&c->cg, c->cgpath, c->cg_made);
	if ((c->cg_shared = foreign > 0))
		cap_warn("cgroup %s already holds %zu processes that are not the container's: kill --all and delete --force will spare them",
			 c->cgpath, foreign);
	/* Ancestors of the container's cgroup made for it are removed with it: recorded now,
	 * so that a runtime killed from here on does not leave them. */
	json_t *made = cg_made_json(&c->cg, c->cgpath);
	if (made) {
		json_object_set_new(st->j, "cgroupMade", made);
		if ((r = oci_state_save(st, err)) < 0)
			return r;
	}
	if (oci_sync_send(fd, SYNC_CGROUP_DIRS) < 0)
		return cap_errf(err, errno, "container init died before it started");
	/* The first v1 migration waits for an RCU grace period; the child keeps working. */
	if ((r = cg_enter(&c->cg, c->cgpath, pid, err)) < 0)
		return r;
	if (s->proc.has_oom_score_adj && (r = set_oom_score_adj(pid, s->proc.oom_score_adj, err)) < 0)
		return r;
	if (oci_sync_send(fd, SYNC_CGROUP_JOINED) < 0)
		return cap_errf(err, errno, "container init died before it started");
	return 0;
}

/* Serve the child until READY: run the runtime hooks when it asks. An init that died is
 * reaped (*pid = -1). */
static int wait_ready(struct oci_ctx *c, int fd, pid_t *pid, cap_err *err)
{
	struct oci_spec *s = c->spec;
	int r;
	for (;;) {
		char buf[sizeof(err->msg) + 2];
		int n = oci_sync_recv(fd, buf, sizeof(buf));
		if (n <= 0) {
			int status = 0;
			waitpid(*pid, &status, 0);
			*pid = -1;
			return cap_errf(err, 0, "container init exited during setup (status %d)",
					WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		}
		if (buf[0] == SYNC_ERROR)
			return cap_errf(err, 0, "%s", buf + 1);
		if (buf[0] == SYNC_RUN_HOOKS) {
			if ((r = oci_hooks_run(&s->hooks, HOOK_PRESTART, c->hook_state, false, err)) < 0 ||
			    (r = oci_hooks_run(&s->hooks, HOOK_CREATE_RUNTIME, c->hook_state, false, err)) < 0)
				return r;
			if (oci_sync_send(fd, SYNC_HOOKS_DONE) < 0)
				return cap_errf(err, errno, "container init died during hooks");
			continue;
		}
		if (buf[0] == SYNC_READY)
			return 0;
	}
}

/* A spawn that failed after fork: the child is killed and reaped, the socket pair closed. */
static int spawn_failed(pid_t pid, int sv[2], int r)
{
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

pid_t oci_container_spawn(struct oci_ctx *c, struct oci_state *st, cap_err *err)
{
	int sv[2] = { -1, -1 };
	pid_t pid = -1;
	int r, own_pidns = -1;

	r = open_ns_paths(c, err);
	if (r < 0)
		return r;
	c->state_fd = st->dirfd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return cap_errf(err, errno, "socketpair");
	if ((r = enter_target_pidns(c, &own_pidns, err)) < 0 || (r = clone_init(c, sv, &pid, err)) < 0)
		goto fail;
	if (sv[1] >= 0)
		close(sv[1]);
	sv[1] = -1;
	leave_target_pidns(&own_pidns);
	/* Until GO the init waits: its namespaces are the ones it was made with, not yet any a
	 * program of the container could make (it runs as soon as the init is ready). */
	if ((r = oci_ns_record(c, pid, st->j, err)) < 0 || (r = send_go(c, st, sv[0], pid, err)) < 0 ||
	    (r = place_in_cgroup(c, st, sv[0], pid, err)) < 0)
		goto fail;
	if (c->spawned && (r = c->spawned(c, st, err)) < 0)
		goto fail;
	if ((r = wait_ready(c, sv[0], &pid, err)) < 0)
		goto fail;
	if (c->fifo_fd < 0) {
		/* run: wait for the exec (EOF), or the reason it failed. */
		char b[sizeof(err->msg) + 2];
		int n;
		while ((n = oci_sync_recv(sv[0], b, sizeof(b))) > 0)
			if (b[0] == SYNC_ERROR) {
				r = cap_errf(err, 0, "%s", b + 1);
				goto fail;
			}
	}
	close(sv[0]);
	return pid;
fail:
	if (sv[0] >= 0)
		r = oci_sync_child_error(sv[0], r, err);
	leave_target_pidns(&own_pidns);
	return spawn_failed(pid, sv, r);
}

/* Open the namespaces recorded at create (rec, nsrecord.h), or for a container whose state
 * has no record (made by an older runtime) every namespace of pid `target` that differs from
 * ours, into c->ns_fd. The init is pinned by a pidfd: if it died (and its pid went to someone
 * else) after `state` looked, the namespace files would be another process's, or missing, and
 * the process would run on the host. The pidfd proves the init is the same and alive once
 * they are open. */
static int open_target_namespaces(struct oci_ctx *c, pid_t target, unsigned long long starttime,
				  json_t *rec, cap_err *err)
{
	static const int order[] = { CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET,
				     CLONE_NEWPID, CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS };
	int r;
	int pfd = (int)syscall(SYS_pidfd_open, target, 0);
	if (pfd < 0)
		return cap_errf(err, errno == ESRCH ? 0 : errno, "container init %d is gone", target);
	if (starttime && oci_proc_starttime(target) != starttime) {
		close(pfd);
		return cap_errf(err, 0, "container init %d is gone (its pid was reused)", target);
	}
	if (rec) {
		r = oci_ns_open_recorded(c, rec, target, err);
		if (r < 0) {
			close(pfd);
			return r;
		}
	}
	for (size_t i = 0; !rec && i < sizeof(order) / sizeof(order[0]); i++) {
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
	/* In our mount namespace the init is only chrooted (no mount namespace of its own):
	 * the process must enter the same root, or it would run on the host's. */
	bool joins_mnt = false;
	for (int i = 0; i < c->n_ns_fd; i++)
		joins_mnt |= c->ns_flag[i] == CLONE_NEWNS;
	if (!joins_mnt) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/root", target);
		c->root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (c->root_fd < 0) {
			r = cap_errf(err, errno, "cannot open %s", p);
			close(pfd);
			return r;
		}
	}
	struct pollfd alive = { .fd = pfd, .events = POLLIN };
	r = poll(&alive, 1, 0);
	close(pfd);
	if (r != 0)
		return cap_errf(err, 0, "container init %d exited while exec joined it", target);
	return 0;
}

/* exec's child: wait for GO (we are in the cgroup), join, set up and exec. */
static void __attribute__((noreturn)) exec_child(struct oci_ctx *c, int fd)
{
	cap_err e = { 0 };
	char b[8];
	/* Not dumpable before joining: see init.c (CVE-2019-5736). */
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (oci_sync_recv(fd, b, sizeof(b)) <= 0)
		_exit(1);
	if (oci_join_namespaces(c, false, &e) < 0)
		oci_child_fail(fd, &e);
	if (c->root_fd >= 0) {
		if (fchdir(c->root_fd) < 0 || chroot(".") < 0) {
			cap_errf(&e, errno, "cannot enter the container's root");
			oci_child_fail(fd, &e);
		}
		close(c->root_fd);
		c->root_fd = -1;
	}
	if (setsid() < 0 && c->proc->terminal) {
		cap_errf(&e, errno, "setsid");
		oci_child_fail(fd, &e);
	}
	if (c->proc->terminal && c->console_fd >= 0) {
		if (oci_terminal_setup(c->console_fd, c->proc, &e) < 0)
			oci_child_fail(fd, &e);
		close(c->console_fd);
	}
	if (oci_process_prepare(c, &e) < 0 || oci_process_finish(c, &e) < 0)
		oci_child_fail(fd, &e);
	prctl(PR_SET_PDEATHSIG, 0);
	c->late_fd = fd;
	/* The socket is close-on-exec: EOF on the parent's side means exec worked. */
	oci_process_exec(c);
}

pid_t oci_exec_spawn(struct oci_ctx *c, pid_t target, unsigned long long starttime, json_t *ns_rec,
		     cap_err *err)
{
	int sv[2] = { -1, -1 };
	int r, own_pidns = -1;
	pid_t pid = -1;

	if ((r = open_target_namespaces(c, target, starttime, ns_rec, err)) < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return cap_errf(err, errno, "socketpair");
	if ((r = enter_target_pidns(c, &own_pidns, err)) < 0) {
		leave_target_pidns(&own_pidns);
		goto fail;
	}
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		exec_child(c, sv[1]);
	}
	/* Children we make later (none, or a sanitizer's helper) belong in our own pid namespace. */
	leave_target_pidns(&own_pidns);
	if (pid < 0) {
		r = cap_errf(err, errno, "fork");
		goto fail;
	}
	close(sv[1]);
	sv[1] = -1;
	if ((r = cg_enter(&c->cg, c->cgpath, pid, err)) < 0)
		goto fail;
	if (oci_sync_send(sv[0], SYNC_GO) < 0) {
		r = cap_errf(err, errno, "exec process died");
		goto fail;
	}
	{
		char buf[sizeof(err->msg) + 2];
		int n = oci_sync_recv(sv[0], buf, sizeof(buf));
		if (n > 0 && buf[0] == SYNC_ERROR) {
			r = cap_errf(err, 0, "%s", buf + 1);
			goto fail;
		}
	}
	close(sv[0]);
	return pid;
fail:
	return spawn_failed(pid, sv, r);
}
