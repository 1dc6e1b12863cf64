/* The container process's own settings: rlimits, cwd, the program path, user, groups,
 * capabilities, no_new_privs and seccomp, in the order the kernel requires. */
#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "lsm.h"
#include "seccomp.h"
#include "sync.h"

/* The program, looked up in the process's own PATH like execvp would. */
static int resolve_program(struct oci_ctx *c, cap_err *err)
{
	const char *prog = c->proc->args[0];
	static char found[PATH_MAX];

	if (strchr(prog, '/')) {
		if (access(prog, X_OK) < 0)
			return cap_errf(err, errno, "process.args[0]: cannot execute %s", prog);
		c->exec_path = prog;
		return 0;
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (size_t i = 0; i < c->proc->n_env; i++)
		if (!strncmp(c->proc->env[i], "PATH=", 5))
			path = c->proc->env[i] + 5;
	for (const char *p = path; ; ) {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		snprintf(found, sizeof(found), "%.*s/%s", (int)len, len ? p : ".", prog);
		struct stat st;
		if (stat(found, &st) == 0 && S_ISREG(st.st_mode) && access(found, X_OK) == 0) {
			c->exec_path = found;
			return 0;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return cap_errf(err, ENOENT, "process.args[0]: executable '%s' not found in $PATH", prog);
}

int oci_process_prepare(struct oci_ctx *c, cap_err *err)
{
	const struct oci_process *p = c->proc;

	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = { p->rlimits[i].soft, p->rlimits[i].hard };
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return cap_errf(err, errno, "process.rlimits[%zu]: cannot set (soft %llu, hard %llu)", i,
					(unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	}
	if (p->umask >= 0)
		umask((mode_t)p->umask);
	else
		umask(022);
	if (chdir(p->cwd) < 0)
		return cap_errf(err, errno, "process.cwd: cannot change to %s", p->cwd);
	/* before the ready report, so that a label the host refuses fails create, not start */
	if (oci_lsm_set_exec(p, err) < 0)
		return -EINVAL;
	return resolve_program(c, err);
}

/* Descriptors past the preserved ones never reach the container's program. Done before
 * seccomp is loaded (a profile may forbid close_range), and checked: on a kernel without
 * close_range the descriptors are marked one by one. */
static int mark_cloexec(int from, cap_err *err)
{
	if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *de;
		int self = dirfd(d);
		while ((de = readdir(d))) {
			int fd = atoi(de->d_name);
			if (de->d_name[0] < '0' || de->d_name[0] > '9' || fd < from || fd == self)
				continue;
			int fl = fcntl(fd, F_GETFD);
			if (fl >= 0 && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) {
				int e = errno;
				closedir(d);
				return cap_errf(err, e, "cannot mark descriptor %d close-on-exec", fd);
			}
		}
		closedir(d);
		return 0;
	}
	/* No /proc in the container either: every possible descriptor. */
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = from; fd < (max > 0 ? max : 1024); fd++) {
		int fl = fcntl((int)fd, F_GETFD);
		if (fl >= 0 && fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC) < 0)
			return cap_errf(err, errno, "cannot mark descriptor %ld close-on-exec", fd);
	}
	return 0;
}

int oci_process_finish(struct oci_ctx *c, cap_err *err)
{
	const struct oci_process *p = c->proc;
	int r;

	if ((r = mark_cloexec(3 + c->preserve_fds, err)) < 0)
		return r;

	if (!c->no_new_keyring && !c->exec_mode) {
		/* A fresh session keyring so containers do not share the host's. */
		syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL);
	}
	if (p->has_caps && (r = oci_caps_drop_bounding(p, err)) < 0)
		return r;
	/* Without no_new_privs the filter must go in while we still have CAP_SYS_ADMIN. */
	if (!p->no_new_privs && (r = oci_seccomp_load(c, err)) < 0)
		return r;
	if (setgroups(p->n_groups, p->groups) < 0 && errno != EPERM)
		return cap_errf(err, errno, "process.user.additionalGids: setgroups");
	if (p->has_caps && prctl(PR_SET_KEEPCAPS, 1) < 0)
		return cap_errf(err, errno, "prctl(PR_SET_KEEPCAPS)");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return cap_errf(err, errno, "process.user.gid: cannot become gid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return cap_errf(err, errno, "process.user.uid: cannot become uid %u", p->uid);
	if (p->has_caps && (r = oci_caps_apply(p, err)) < 0)
		return r;
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cap_errf(err, errno, "process.noNewPrivileges: prctl");
	if (p->no_new_privs && (r = oci_seccomp_load(c, err)) < 0)
		return r;
	return 0;
}

void oci_process_exec(struct oci_ctx *c)
{
	/* `run` blocks the signals it forwards, and a mask survives execve: the program starts
	 * with none blocked, as under runc. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(c->exec_path, (char *const *)c->proc->args, (char *const *)c->proc->env);
	cap_err err = { 0 };
	cap_errf(&err, errno, "cannot execute %s", c->exec_path);
	oci_child_fail_late(c, &err);
}
