/* The parent/child handshake on the SOCK_SEQPACKET socketpair: one datagram per message,
 * its first byte an enum oci_sync.
 *
 * create: parent -> child: GO [hook state JSON] once the id maps are written, CGROUP_DIRS
 * once the cgroup directories exist, CGROUP_JOINED once the child is in its cgroups,
 * HOOKS_DONE after the runtime hooks ran; child -> parent: PID (first, from a child cloned
 * by an intermediate process: the message's credentials carry its pid), RUN_HOOKS (run
 * the prestart/createRuntime hooks now), READY, ERROR <message>.
 * exec: parent -> child GO once it is in the cgroup; child -> parent ERROR, or EOF at exec.
 *
 * Moving a task between v1 cgroups waits for an RCU grace period; the child builds its
 * root file system meanwhile and waits for CGROUP_DIRS before bind-mounting its cgroup and
 * for CGROUP_JOINED only before it must be inside (a cgroup namespace, or reporting ready). */
#ifndef CAPSULE_OCI_SYNC_H
#define CAPSULE_OCI_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/error.h"
#include "ctx.h"

enum oci_sync {
	SYNC_GO = 'G',
	SYNC_CGROUP_DIRS = 'D',
	SYNC_CGROUP_JOINED = 'C',
	SYNC_RUN_HOOKS = 'H',
	SYNC_HOOKS_DONE = 'K',
	SYNC_READY = 'R',
	SYNC_ERROR = 'E',
	SYNC_PID = 'P',
};

/* The longest message (GO with the hook state). */
#define SYNC_MAX 65536

/* Send a one-byte message; 0 or -errno. */
int oci_sync_send(int fd, enum oci_sync m);
/* Receive one message into buf (NUL-terminated); its length, 0 on EOF, or -errno. */
int oci_sync_recv(int fd, char *buf, size_t sz);
/* In the child: wait for message `want`. CGROUP_DIRS and CGROUP_JOINED come in that order
 * and may arrive while the child waits for something else: *seen remembers the last. */
int oci_sync_wait(int fd, enum oci_sync want, char *seen);
/* In the child: wait until the parent has created our cgroup (joined: and put us in it). */
int oci_child_wait_cgroup(struct oci_ctx *c, bool joined);
/* In the child: report err as an ERROR message (or on stderr when fd < 0 or the parent is
 * gone) and exit 1. */
void oci_child_fail(int fd, const cap_err *err) __attribute__((noreturn));
/* In the child, once the runtime has returned: the only channel left is the container's
 * own stderr. Writes "capsule: <msg>\n" there. */
void oci_child_stderr(const char *msg);
/* In the child after ready: report err on c->late_fd as ERROR <message> (start reads it
 * from the exec fifo after the "0", run and exec from the socket), else on stderr; exit 127. */
void oci_child_fail_late(const struct oci_ctx *c, const cap_err *err) __attribute__((noreturn));
/* In the parent: the child may have failed (and said why) while we were busy; prefer its
 * message over r. */
int oci_sync_child_error(int fd, int r, cap_err *err);

#endif
