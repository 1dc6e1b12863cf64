/* create, start, run, state, kill, delete, wait: the container's life. */
#include "lifecycle.h"

#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "cgroup-stats.h"
#include "cgshared.h"
#include "container.h"
#include "ctx.h"
#include "hooks.h"
#include "lsm.h"
#include "mounts.h"
#include "seccomp.h"
#include "sync.h"
#include "sysctl.h"
#include "terminal.h"

int oci_write_pid_file(const char *path, pid_t pid, cap_err *err)
{
	char tmp[PATH_MAX + 16], buf[32];
	if (!path)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cap_errf(err, errno, "--pid-file %s", path);
	int n = snprintf(buf, sizeof(buf), "%d", pid);
	if (write(fd, buf, (size_t)n) != n || close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return cap_errf(err, e, "--pid-file %s", path);
	}
	return 0;
}

const char *oci_root(const struct oci_runtime *rt)
{
	return rt && rt->root ? rt->root : OCI_DEFAULT_ROOT;
}

int oci_exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void oci_forward_mask(sigset_t *mask)
{
	sigemptyset(mask);
	for (int s = 1; s < 32; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGSEGV && s != SIGBUS && s != SIGILL &&
		    s != SIGFPE && s != SIGTRAP && s != SIGABRT)
			sigaddset(mask, s);
}

static void iso_now(char *buf, size_t sz)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, sz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sz - n, ".%09ldZ", ts.tv_nsec);
}

/* Hooks kept in state.json, for start (poststart) and delete (poststop). */
static int state_hooks(struct oci_state *st, struct oci_spec *tmp, cap_err *err)
{
	memset(tmp, 0, sizeof(*tmp));
	json_t *h = json_object_get(st->j, "hooks");
	if (!h)
		return 0;
	return oci_hooks_parse(h, tmp, err);
}

static void free_state_hooks(struct oci_spec *tmp)
{
	tmp->root = NULL;
	oci_spec_free(tmp);
}

static char *state_string(struct oci_state *st)
{
	json_t *pub = oci_state_public(st);
	char *s = json_dumps(pub, JSON_COMPACT);
	json_decref(pub);
	return s;
}

static int spawned(struct oci_ctx *c, struct oci_state *st, cap_err *err)
{
	json_object_set_new(st->j, "pid", json_integer(st->pid));
	json_object_set_new(st->j, "starttime", json_integer((json_int_t)st->starttime));
	/* known once the cgroup is made (place_in_cgroup, before this) */
	if (c->cg_shared)
		json_object_set_new(st->j, "cgroupShared", json_true());
	int r = oci_state_save(st, err);
	if (r < 0)
		return r;
	return oci_write_pid_file(c->pid_file, st->pid, err);
}

/* The bundle: config.json parsed, the rootfs found, the binary sealed when it must be. */
static int load_bundle(const struct oci_create_args *a, struct oci_ctx *c, struct oci_spec *spec,
		       cap_err *err)
{
	char cfg[PATH_MAX + 16];
	int r;

	if (!realpath(a->bundle ? a->bundle : ".", c->bundle))
		return cap_errf(err, errno, "bundle %s", a->bundle ? a->bundle : ".");
	snprintf(cfg, sizeof(cfg), "%s/config.json", c->bundle);
	r = oci_id_check(a->id, err);
	if (r < 0)
		return r;
	r = oci_spec_load(cfg, spec, err);
	if (r < 0)
		return r;
	if (oci_sysctl_check(spec, err) < 0)
		return -EINVAL;
	if (oci_lsm_check(spec, spec->has_process ? &spec->proc : NULL, err) < 0)
		return -EINVAL;
	if (!spec->has_process)
		return cap_errf(err, 0, "config.json: process: missing");
	/* Until it execs, the init is this binary inside the container. Non-dumpable keeps
	 * container processes from /proc/<init>/exe unless they may hold CAP_SYS_PTRACE over
	 * the host's user namespace (no user namespace, the capability in the bounding set):
	 * then run from a sealed copy (nothing done yet: the command simply starts again). */
	if (!oci_spec_userns(spec) &&
	    (!spec->proc.has_caps || (spec->proc.caps[CAPSET_BOUNDING] & (1ULL << CAP_SYS_PTRACE)))) {
		r = oci_reexec_sealed();
		if (r < 0)
			cap_debug("not running from a sealed copy of the binary: %s", strerror(-r));
	}
	c->spec = spec;
	c->proc = &spec->proc;
	c->id = a->id;
	c->preserve_fds = a->preserve_fds;
	c->no_pivot = a->no_pivot;
	c->no_new_keyring = a->no_new_keyring;
	char rp[2 * PATH_MAX + 2];
	if (spec->root_path[0] == '/')
		snprintf(rp, sizeof(rp), "%s", spec->root_path);
	else
		snprintf(rp, sizeof(rp), "%s/%s", c->bundle, spec->root_path);
	struct stat sb;
	if (!realpath(rp, c->rootfs) || stat(c->rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return cap_errf(err, errno ? errno : ENOTDIR, "config.json: root.path: rootfs %s", rp);
	return 0;
}

/* What the runtime prepares before anything exists: seccomp, cgroup path, console. */
static int prepare_container(const struct oci_runtime *rt, const struct oci_create_args *a, bool run,
			     struct oci_ctx *c, cap_err *err)
{
	struct oci_spec *spec = c->spec;
	int r;

	if (spec->proc.terminal && !a->console_socket && (!run || a->detach))
		return cap_errf(err, 0, "config.json: process.terminal is true but no --console-socket was given");
	if ((r = oci_seccomp_compile(c, err)) < 0 || (r = cg_layout_detect(&c->cg, err)) < 0)
		return r;
	r = cg_resolve_path(&c->cg, spec->cgroups_path, a->id, rt && rt->systemd_cgroup, c->cgpath,
			    sizeof(c->cgpath), err);
	if (r < 0)
		return r;
	if (a->console_socket) {
		c->console_fd = oci_console_connect(a->console_socket, err);
		if (c->console_fd < 0)
			return c->console_fd;
	} else if (run && spec->proc.terminal) {
		/* We are the console socket: the pty is relayed to our stdio. */
		r = oci_console_pair(&c->console_ours, &c->console_fd, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* state.json's contents besides the pid: what later commands need without the bundle. */
static void record_state(struct oci_ctx *c, struct oci_state *st)
{
	struct oci_spec *spec = c->spec;
	char created[64];

	iso_now(created, sizeof(created));
	json_object_set_new(st->j, "ociVersion", json_string(spec->oci_version));
	json_object_set_new(st->j, "id", json_string(c->id));
	json_object_set_new(st->j, "bundle", json_string(c->bundle));
	json_object_set_new(st->j, "rootfs", json_string(c->rootfs));
	json_object_set_new(st->j, "created", json_string(created));
	json_object_set_new(st->j, "owner", json_string(""));
	json_object_set_new(st->j, "cgroupPath", json_string(c->cgpath));
	json_t *bases = cg_bases_json(&c->cg);
	if (bases)
		json_object_set_new(st->j, "cgroupBases", bases);
	if (spec->annotations)
		json_object_set(st->j, "annotations", spec->annotations);
	if (spec->hooks_json)
		json_object_set(st->j, "hooks", spec->hooks_json);
	/* exec's defaults and confinement as they were at create: the bundle may change
	 * or go away, and exec must not run with less than the container has. */
	json_t *ex = json_object(), *pj = json_object_get(spec->root, "process");
	if (pj)
		json_object_set(ex, "process", pj);
	if (spec->seccomp)
		json_object_set(ex, "seccomp", spec->seccomp);
	json_object_set_new(st->j, "exec", ex);
	st->id = c->id;
	st->bundle = c->bundle;
}

/* exec.fifo, which the init opens to wait for `start`, owned by the container's root. */
static int make_exec_fifo(struct oci_ctx *c, struct oci_state *st, cap_err *err)
{
	struct oci_spec *spec = c->spec;

	if (mkfifoat(st->dirfd, OCI_FIFO, 0622) < 0)
		return cap_errf(err, errno, "cannot create %s/%s", st->dir, OCI_FIFO);
	/* The container's root must be able to open it after a user namespace switch. */
	if (spec->n_uidmap || spec->n_gidmap) {
		uid_t u = 0;
		gid_t g = 0;
		for (size_t i = 0; i < spec->n_uidmap; i++)
			if (spec->uidmap[i].container == 0)
				u = spec->uidmap[i].host;
		for (size_t i = 0; i < spec->n_gidmap; i++)
			if (spec->gidmap[i].container == 0)
				g = spec->gidmap[i].host;
		if (fchownat(st->dirfd, OCI_FIFO, u, g, 0) < 0 || fchmod(st->dirfd, 0711) < 0)
			return cap_errf(err, errno, "cannot chown the exec fifo");
	}
	c->fifo_fd = openat(st->dirfd, OCI_FIFO, O_PATH | O_CLOEXEC);
	if (c->fifo_fd < 0)
		return cap_errf(err, errno, "cannot open the exec fifo");
	return 0;
}

static int do_create(const struct oci_runtime *rt, const struct oci_create_args *a, bool run,
		     struct oci_ctx *c, struct oci_spec *spec, struct oci_state *st, cap_err *err)
{
	int r;
	pid_t pid;
	uint64_t host_mnt = 0;
	int host_tree = -1;

	if ((r = load_bundle(a, c, spec, err)) < 0 || (r = prepare_container(rt, a, run, c, err)) < 0)
		return r;
	r = oci_state_new(oci_root(rt), a->id, st, err);
	if (r < 0)
		return r;
	/* From here on, failure must undo the state directory, the cgroup and the host bind.
	 * The record comes first: a runtime killed from now on leaves a container that list,
	 * state and delete see (stopped, with its cgroup path and host bind), not a directory
	 * only `create` trips over. */
	record_state(c, st);
	if (!oci_spec_has_ns(spec, CLONE_NEWNS)) {
		if ((r = oci_rootfs_host_bind(c->rootfs, &host_tree, &host_mnt, err)) < 0)
			goto fail_cg;
		json_object_set_new(st->j, "hostMountId", json_integer((json_int_t)host_mnt));
	}
	if ((r = oci_state_save(st, err)) < 0 ||
	    (host_tree >= 0 && (r = oci_rootfs_host_attach(c->rootfs, host_tree, err)) < 0) ||
	    (!run && (r = make_exec_fifo(c, st, err)) < 0))
		goto fail_cg;
	if (host_tree >= 0)
		close(host_tree);
	host_tree = -1;
	c->spawned = spawned;
	c->pid_file = a->pid_file;
	pid = oci_container_spawn(c, st, err);
	if (pid < 0) {
		r = pid;
		goto fail_cg;
	}
	st->status = run ? ST_RUNNING : ST_CREATED;
	return 0;
fail_cg:
	if (c->cg_made)
		cg_destroy_some(&c->cg, c->cgpath, c->cg_made);
	if (host_tree >= 0)
		close(host_tree);   /* one not attached yet goes with its descriptor */
	oci_rootfs_host_release(c->rootfs, host_mnt);
	if (a->pid_file && st->pid > 0)
		unlink(a->pid_file);
	oci_state_remove(st);
	oci_state_close(st);
	return r;
}

int oci_create(const struct oci_runtime *rt, const struct oci_create_args *a, pid_t *pidp, cap_err *err)
{
	struct oci_ctx c;
	struct oci_spec spec;
	struct oci_state st = { .dirfd = -1 };
	memset(&spec, 0, sizeof(spec));
	oci_ctx_init(&c);
	int r = do_create(rt, a, false, &c, &spec, &st, err);
	if (r == 0 && pidp)
		*pidp = st.pid;
	oci_state_close(&st);
	oci_ctx_release(&c);
	oci_spec_free(&spec);
	return r < 0 ? r : 0;
}

/* Remove everything of a stopped container: cgroup, poststop hooks, state directory. */
static int destroy(struct oci_state *st, cap_err *err)
{
	struct cg_layout cg;
	struct oci_spec hooks;
	cap_err tmp = { 0 };

	if (st->cgroup && cg_layout_detect(&cg, &tmp) == 0) {
		cg_layout_bind(&cg, json_object_get(st->j, "cgroupBases"));
		cg_made_bind(&cg, st->cgroup, json_object_get(st->j, "cgroupMade"));
		/* Leftover processes (e.g. exec'd ones after the init died, or in sub-cgroups
		 * the container made) go first. */
		bool shared = json_is_true(json_object_get(st->j, "cgroupShared"));
		if (shared)
			oci_cg_kill_own(&cg, st->cgroup, st->j, 0, SIGKILL);
		else
			cg_kill_all(&cg, st->cgroup, SIGKILL);
		/* a shared cgroup is not the container's to remove */
		int r = shared ? 0 : cg_destroy(&cg, st->cgroup);
		/* The state stays, so that delete can be retried. */
		if (r < 0)
			return cap_errf(err, -r, "container %s: cannot remove its cgroup %s", st->id,
					st->cgroup);
	}
	/* Without a mount namespace the container's mounts hang under our bind of its rootfs. */
	json_int_t host_mnt = json_integer_value(json_object_get(st->j, "hostMountId"));
	const char *rootfs = json_string_value(json_object_get(st->j, "rootfs"));
	if (host_mnt > 0 && rootfs)
		oci_rootfs_host_release(rootfs, (uint64_t)host_mnt);
	if (state_hooks(st, &hooks, err) == 0) {
		if (hooks.hooks.n[HOOK_POSTSTOP]) {
			st->status = ST_STOPPED;
			char *s = state_string(st);
			oci_hooks_run(&hooks.hooks, HOOK_POSTSTOP, s, true, err);
			free(s);
		}
		free_state_hooks(&hooks);
	}
	oci_state_remove(st);
	return 0;
}

static int wait_gone(pid_t pid, unsigned long long starttime, int ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0) {
		if (oci_proc_starttime(pid) != starttime) {
			close(pfd);
			return 0;
		}
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int r = poll(&p, 1, ms);
		close(pfd);
		return r > 0 ? 0 : -ETIMEDOUT;
	}
	return 0;
}

static int state_kill(struct oci_state *st, int sig, bool all, cap_err *err)
{
	if (all && st->cgroup) {
		struct cg_layout cg;
		if (cg_layout_detect(&cg, err) < 0)
			return -EINVAL;
		cg_layout_bind(&cg, json_object_get(st->j, "cgroupBases"));
		if (json_is_true(json_object_get(st->j, "cgroupShared")))
			oci_cg_kill_own(&cg, st->cgroup, st->j, 0, sig);
		else
			cg_kill_all(&cg, st->cgroup, sig);
	}
	int pfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	/* The pidfd pins the process we checked, not a later one reusing its pid. */
	if (pfd >= 0 && oci_proc_starttime(st->pid) == st->starttime) {
		int r = (int)syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
		int e = errno;
		close(pfd);
		if (r < 0 && e != ESRCH)
			return cap_errf(err, e, "cannot signal container %s", st->id);
		return 0;
	}
	if (pfd >= 0)
		close(pfd);
	return 0;
}

int oci_run(const struct oci_runtime *rt, const struct oci_create_args *a, cap_err *err)
{
	struct oci_ctx c;
	struct oci_spec spec;
	struct oci_state st = { .dirfd = -1 };
	int r, status = 0;
	sigset_t mask, old;

	memset(&spec, 0, sizeof(spec));
	oci_ctx_init(&c);
	/* Signals to `run` go to the container (handled below), not to us. */
	oci_forward_mask(&mask);
	sigprocmask(SIG_BLOCK, &mask, &old);
	r = do_create(rt, a, true, &c, &spec, &st, err);
	if (r < 0)
		goto out;
	pid_t pid = st.pid;
	if (spec.hooks.n[HOOK_POSTSTART]) {
		char *s = state_string(&st);
		oci_hooks_run(&spec.hooks, HOOK_POSTSTART, s, true, err);
		free(s);
	}
	if (a->detach) {
		r = 0;
		goto out;
	}
	/* Let other commands (state, exec, kill) use the container while it runs. */
	close(st.dirfd);
	st.dirfd = -1;
	int master = c.console_ours >= 0 ? oci_recv_fd(c.console_ours) : -1;
	oci_wait_forward(pid, &mask, master, &status);
	if (master >= 0)
		close(master);
	if (cg_oom_kills(&c.cg, c.cgpath) > 0)
		cap_warn("container %s: the OOM killer killed a process (memory limit reached)", a->id);
	{
		cap_err e2 = { 0 };
		struct oci_state st2;
		if (oci_state_load(oci_root(rt), a->id, &st2, &e2) == 0) {
			if (destroy(&st2, &e2) < 0)
				cap_warn("%s", e2.msg);
			oci_state_close(&st2);
		}
	}
	r = oci_exit_code(status);
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	oci_state_close(&st);
	oci_ctx_release(&c);
	oci_spec_free(&spec);
	return r;
}

int oci_start(const struct oci_runtime *rt, const char *id, cap_err *err)
{
	struct oci_state st;
	int r = oci_state_load(oci_root(rt), id, &st, err);
	if (r < 0)
		return r;
	if (st.status != ST_CREATED) {
		r = cap_errf(err, 0, "cannot start container %s: it is %s, not created", id,
			     oci_status_name(st.status));
		goto out;
	}
	int fd = openat(st.dirfd, OCI_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = cap_errf(err, errno, "cannot open the exec fifo of %s", id);
		goto out;
	}
	int pfd = (int)syscall(SYS_pidfd_open, st.pid, 0);
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
	for (;;) {
		int n = poll(p, pfd >= 0 ? 2 : 1, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (p[1].revents && !p[0].revents)) {
			r = cap_errf(err, 0, "container %s exited before it could start", id);
			break;
		}
		char b;
		if (p[0].revents & POLLIN) {
			if (read(fd, &b, 1) == 1) {
				/* EOF follows when the init execs (the fifo is close-on-exec); what
				 * comes before it is ERROR <why the init could not>. */
				char why[sizeof(err->msg) + 2];
				size_t got = 0;
				ssize_t n;
				int fl = fcntl(fd, F_GETFL);
				fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
				while ((n = read(fd, why + got, sizeof(why) - 1 - got)) > 0 || (n < 0 && errno == EINTR))
					if (n > 0)
						got += (size_t)n;
				why[got] = 0;
				if (got > 1 && why[0] == SYNC_ERROR)
					r = cap_errf(err, 0, "cannot start container %s: %s", id, why + 1);
				else
					r = 0;
			} else {
				r = cap_errf(err, 0, "container %s exited before it could start", id);
			}
			break;
		}
		if (p[0].revents & POLLHUP) {
			r = cap_errf(err, 0, "container %s exited before it could start", id);
			break;
		}
	}
	close(fd);
	if (pfd >= 0)
		close(pfd);
	unlinkat(st.dirfd, OCI_FIFO, 0);
	if (r == 0) {
		struct oci_spec hooks;
		st.status = ST_RUNNING;
		if (state_hooks(&st, &hooks, err) == 0) {
			if (hooks.hooks.n[HOOK_POSTSTART]) {
				char *s = state_string(&st);
				oci_hooks_run(&hooks.hooks, HOOK_POSTSTART, s, true, err);
				free(s);
			}
			free_state_hooks(&hooks);
		}
	}
out:
	oci_state_close(&st);
	return r;
}

int oci_state_get(const struct oci_runtime *rt, const char *id, struct oci_container_state *out,
		  cap_err *err)
{
	struct oci_state st;
	memset(out, 0, sizeof(*out));
	int r = oci_state_load(oci_root(rt), id, &st, err);
	if (r < 0)
		return r;
	oci_state_export(&st, out);
	oci_state_close(&st);
	return 0;
}

int oci_kill(const struct oci_runtime *rt, const char *id, int sig, bool all, cap_err *err)
{
	struct oci_state st;
	if (sig <= 0 || sig > 64)
		return cap_errf(err, 0, "kill: invalid signal %d", sig);
	int r = oci_state_load(oci_root(rt), id, &st, err);
	if (r < 0)
		return r;
	if (st.status == ST_STOPPED && !all)
		r = cap_errf(err, 0, "container %s is not running", id);
	else
		r = state_kill(&st, sig, all, err);
	oci_state_close(&st);
	return r;
}

int oci_delete(const struct oci_runtime *rt, const char *id, bool force, cap_err *err)
{
	struct oci_state st;
	int r = oci_state_load(oci_root(rt), id, &st, err);
	if (r < 0) {
		/* runc: delete --force of an unknown container is not an error. */
		if (force && r == -ENOENT) {
			cap_err_clear(err);
			return 0;
		}
		return r;
	}
	/* The runtime-spec: deleting a container that is not stopped is an error (runc
	 * deletes a created one anyway). */
	if (st.status != ST_STOPPED) {
		if (!force) {
			r = cap_errf(err, 0, "cannot delete container %s: it is %s (use --force)", id,
				     oci_status_name(st.status));
			goto out;
		}
	}
	if (st.status != ST_STOPPED) {
		if (st.status == ST_PAUSED && st.cgroup) {
			struct cg_layout cg;
			cap_err tmp = { 0 };
			if (cg_layout_detect(&cg, &tmp) == 0) {
				cg_layout_bind(&cg, json_object_get(st.j, "cgroupBases"));
				cg_freeze(&cg, st.cgroup, false, &tmp);
			}
		}
		state_kill(&st, SIGKILL, true, err);
		if (wait_gone(st.pid, st.starttime, 10000) < 0) {
			r = cap_errf(err, ETIMEDOUT, "container %s did not die", id);
			goto out;
		}
	}
	r = destroy(&st, err);
out:
	oci_state_close(&st);
	return r;
}

int oci_wait(const struct oci_runtime *rt, const char *id, int *exit_code, cap_err *err)
{
	struct oci_state st;
	int r = oci_state_load(oci_root(rt), id, &st, err);
	if (r < 0)
		return r;
	pid_t pid = st.pid;
	unsigned long long start = st.starttime;
	bool stopped = st.status == ST_STOPPED;
	/* The lock is not held while waiting: kill, exec and delete must get through. */
	oci_state_close(&st);
	if (exit_code)
		*exit_code = -1;
	if (stopped || pid <= 0) {
		/* Our own child may be a zombie (stopped): collect its status. */
		int status;
		if (pid > 0 && exit_code && waitpid(pid, &status, WNOHANG) == pid)
			*exit_code = oci_exit_code(status);
		return 0;
	}
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return errno == ESRCH ? 0 : cap_errf(err, errno, "cannot wait for container %s", id);
	if (oci_proc_starttime(pid) != start) {
		close(pfd);
		return 0;
	}
	siginfo_t si = { 0 };
	if (waitid(P_PIDFD, (id_t)pfd, &si, WEXITED) == 0) {
		if (exit_code)
			*exit_code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	} else {
		/* Not our child: its pidfd becomes readable when it exits. */
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
	close(pfd);
	return 0;
}
