/* The container being created or exec'd into, and the steps that build it.
 *
 * create: the runtime clones the container init directly into its new namespaces
 * (no re-exec of the binary), puts it into its cgroup and writes its id maps, then lets
 * it go on a SOCK_SEQPACKET socketpair. The init sets up its root file system and
 * process, reports "ready", and blocks opening exec.fifo for writing until `start`
 * opens it for reading (runc's design); then it execs the user process. */
#ifndef CAPSULE_OCI_CONTAINER_H
#define CAPSULE_OCI_CONTAINER_H

#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/types.h>
#include <linux/filter.h>

#include "cgroup.h"
#include "spec.h"
#include "state.h"

struct oci_opts {
	const char *root;          /* state root, default /run/capsule */
	const char *log, *log_format;
	bool systemd_cgroup, debug, rootless;
};

struct oci_ctx {
	const struct oci_opts *opts;
	const char *id;
	char bundle[PATH_MAX];
	char rootfs[PATH_MAX];
	struct oci_spec *spec;
	struct oci_process *proc;   /* the process to run (spec->proc, or exec's) */
	struct cg_layout cg;
	char cgpath[PATH_MAX];
	unsigned cg_made;           /* hierarchies whose cgroup create made (the rest existed) */
	int sync_fd;                /* in the child: its end of the socketpair */
	char cgroup_seen;           /* in the child: 'D' cgroup dirs made, 'C' we are inside */
	int console_fd;             /* connected console socket or -1 */
	int console_ours;           /* our end when we are the console socket's receiver, or -1 */
	int fifo_fd;                /* O_PATH of exec.fifo (create) or -1 (run) */
	int state_fd;               /* the locked state directory: the init must not keep it */
	int ns_fd[OCI_NS_COUNT];    /* namespaces to join, opened before clone; -1 */
	int ns_flag[OCI_NS_COUNT];
	int n_ns_fd;
	struct sock_fprog seccomp;  /* compiled filter; len 0 = none */
	unsigned seccomp_flags;
	int preserve_fds;
	bool no_pivot, no_new_keyring;
	bool exec_mode;             /* capsule exec: join, don't create */
	bool userns_joined;         /* init: cloned inside the user namespace given by path */
	const char *exec_path;      /* resolved program path */
	char *hook_state;           /* state JSON for in-container hooks */
	/* Called by oci_container_spawn once the child is in its cgroup, while it is still
	 * setting up: the caller's own work (state.json, pid file) overlaps the child's. */
	int (*spawned)(struct oci_ctx *c, struct oci_state *st, cap_err *err);
	const char *pid_file;
};

void oci_ctx_init(struct oci_ctx *c);
void oci_ctx_release(struct oci_ctx *c);

/* Clone the container init. Returns its pid, or -errno with err filled (the child is
 * reaped; the cgroups it made, mask c->cg_made, are the caller's to remove). On success the init is blocked on exec.fifo
 * (fifo_fd >= 0) or already exec'ing the process (run). */
pid_t oci_container_spawn(struct oci_ctx *c, struct oci_state *st, cap_err *err);

/* Fork a process that joins the namespaces of pid `target` (which must still have the
 * recorded starttime, 0 = unchecked) and runs c->proc. */
pid_t oci_exec_spawn(struct oci_ctx *c, pid_t target, unsigned long long starttime, cap_err *err);

/* In the child: wait until the parent has created our cgroup (joined: and put us in it). */
int oci_child_wait_cgroup(struct oci_ctx *c, bool joined);

/* Steps run inside the container (mounts.c, process.c, ...): return 0 or -errno with err. */
int oci_rootfs_setup(struct oci_ctx *c, cap_err *err);
int oci_rootfs_pivot(struct oci_ctx *c, cap_err *err);
int oci_rootfs_finish(struct oci_ctx *c, cap_err *err);
int oci_process_prepare(struct oci_ctx *c, cap_err *err);   /* rlimits, oom, cwd check, path */
int oci_process_finish(struct oci_ctx *c, cap_err *err);    /* user, caps, nnp, seccomp */
void oci_process_exec(struct oci_ctx *c) __attribute__((noreturn));

/* caps.c */
int oci_caps_drop_bounding(const struct oci_process *p, cap_err *err);
int oci_caps_apply(const struct oci_process *p, cap_err *err);

/* seccomp.c: compile linux.seccomp into c->seccomp. */
int oci_seccomp_compile(struct oci_ctx *c, cap_err *err);
int oci_seccomp_load(const struct oci_ctx *c, cap_err *err);

/* hooks.c: run hooks of one kind with state on stdin. */
int oci_hooks_run(const struct oci_hooks *h, enum oci_hook_kind kind, const char *state,
		  bool warn_only, cap_err *err);

/* terminal.c */
int oci_console_connect(const char *path, cap_err *err);
/* Open a pty in the current mount namespace, send its master over sock, make the slave
 * our controlling terminal and stdio. */
int oci_terminal_setup(int sock, const struct oci_process *p, cap_err *err);
int oci_send_fd(int sock, int fd, const char *name);
int oci_recv_fd(int sock);
int oci_console_pair(int *ours, int *theirs, cap_err *err);
/* Wait for pid (a child of ours), forwarding the signals in mask (blocked by the caller)
 * to it, and relaying stdio to the pty master when master >= 0. */
int oci_wait_forward(pid_t pid, const sigset_t *mask, int master, int *status);

#endif
