/* The container being created or exec'd into: everything the runtime and the child it
 * clones share (the child gets a copy of this memory, not a message).
 *
 * create: the runtime clones the container init directly into its new namespaces
 * (no re-exec of the binary), puts it into its cgroup and writes its id maps, then lets
 * it go on a SOCK_SEQPACKET socketpair (sync.h). The init sets up its root file system and
 * process, reports ready, and blocks opening exec.fifo for writing until `start` opens it
 * for reading (runc's design); then it execs the user process. */
#ifndef CAPSULE_OCI_CTX_H
#define CAPSULE_OCI_CTX_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include <linux/filter.h>

#include "cgroup.h"
#include "spec.h"
#include "state.h"

struct oci_ctx {
	const char *id;
	char bundle[PATH_MAX];
	char rootfs[PATH_MAX];
	struct oci_spec *spec;
	struct oci_process *proc;   /* the process to run (spec->proc, or exec's) */
	struct cg_layout cg;
	char cgpath[PATH_MAX];
	unsigned cg_made;           /* hierarchies whose cgroup create made (the rest existed) */
	bool cg_shared;             /* the cgroup held other processes at create (cgshared.h) */
	int sync_fd;                /* in the child: its end of the socketpair */
	char cgroup_seen;           /* in the child: the last cgroup message (enum oci_sync), or 0 */
	int console_fd;             /* connected console socket or -1 */
	int console_ours;           /* our end when we are the console socket's receiver, or -1 */
	int fifo_fd;                /* O_PATH of exec.fifo (create) or -1 (run) */
	int fd_dir;                 /* init: O_PATH of its /proc/self/fd, opened before any root
				     * change, to reopen fifo_fd without a /proc in the container */
	int root_fd;                /* exec: O_PATH of the init's root when exec joins no mount
				     * namespace (the container shares ours): chroot into it */
	int late_fd;                /* child: where a failure after ready is reported (the
				     * exec fifo for create, the sync socket for run and exec) */
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

#endif
