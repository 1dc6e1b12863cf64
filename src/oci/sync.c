/* The parent/child handshake (messages in sync.h). */
#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int oci_sync_send(int fd, enum oci_sync m)
{
	char b = (char)m;
	return send(fd, &b, 1, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int oci_sync_recv(int fd, char *buf, size_t sz)
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

int oci_sync_wait(int fd, enum oci_sync want, char *seen)
{
	char b[8];
	if ((want == SYNC_CGROUP_DIRS && *seen) || (want == SYNC_CGROUP_JOINED && *seen == SYNC_CGROUP_JOINED))
		return 0;
	for (;;) {
		if (oci_sync_recv(fd, b, sizeof(b)) <= 0)
			return -1;
		if (b[0] == SYNC_CGROUP_DIRS || b[0] == SYNC_CGROUP_JOINED)
			*seen = b[0];
		if (b[0] == (char)want || (want == SYNC_CGROUP_DIRS && b[0] == SYNC_CGROUP_JOINED))
			return 0;
	}
}

int oci_child_wait_cgroup(struct oci_ctx *c, bool joined)
{
	return oci_sync_wait(c->sync_fd, joined ? SYNC_CGROUP_JOINED : SYNC_CGROUP_DIRS, &c->cgroup_seen);
}

void oci_child_stderr(const char *msg)
{
	static const char pre[] = "capsule: ";
	size_t n = strnlen(msg, 4096);
	/* Best effort: the container's stderr may be closed. */
	if (write(2, pre, sizeof(pre) - 1) < 0 || write(2, msg, n) < 0 || write(2, "\n", 1) < 0)
		return;
}

void oci_child_fail(int fd, const cap_err *err)
{
	char buf[sizeof(err->msg) + 1];
	buf[0] = SYNC_ERROR;
	size_t n = strnlen(err->msg, sizeof(err->msg));
	memcpy(buf + 1, err->msg, n);
	/* write() when a seccomp filter, loaded by now, refuses send(). */
	if (fd < 0 || (send(fd, buf, n + 1, MSG_NOSIGNAL) < 0 && write(fd, buf, n + 1) < 0))
		oci_child_stderr(err->msg);
	_exit(1);
}

void oci_child_fail_late(const struct oci_ctx *c, const cap_err *err)
{
	char buf[sizeof(err->msg) + 1];
	buf[0] = SYNC_ERROR;
	size_t n = strnlen(err->msg, sizeof(err->msg));
	memcpy(buf + 1, err->msg, n);
	/* One write: one datagram on the socket, atomic on the fifo (< PIPE_BUF). */
	if (c->late_fd < 0 || write(c->late_fd, buf, n + 1) < 0)
		oci_child_stderr(err->msg);
	_exit(127);
}

int oci_sync_child_error(int fd, int r, cap_err *err)
{
	char buf[sizeof(err->msg) + 2];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n > 1 && buf[0] == SYNC_ERROR) {
		buf[n] = 0;
		cap_err_clear(err);
		return cap_errf(err, 0, "%s", buf + 1);
	}
	return r;
}
