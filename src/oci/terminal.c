/* The console socket, as runc and crun do it: connect to the AF_UNIX path given with
 * --console-socket and send the pty master with SCM_RIGHTS (the pty's name as data).
 * Without one, `run` and `exec` make their own socketpair, receive the master and relay
 * it to their stdio (raw mode when stdin is a terminal). */
#include "terminal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int oci_console_connect(const char *path, cap_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return cap_errf(err, ENAMETOOLONG, "--console-socket %s", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cap_errf(err, errno, "console socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return cap_errf(err, e, "cannot connect to the console socket %s", path);
	}
	return fd;
}

int oci_send_fd(int sock, int fd, const char *name)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	memset(cbuf, 0, sizeof(cbuf));
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int oci_terminal_setup(int sock, const struct oci_process *p, cap_err *err)
{
	char name[64];
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return cap_errf(err, errno, "process.terminal: cannot open /dev/ptmx");
	int unlock = 0, r = 0, slave = -1;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ptsname_r(master, name, sizeof(name)) != 0) {
		r = cap_errf(err, errno, "process.terminal: cannot unlock the pty");
		goto out;
	}
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		r = cap_errf(err, errno, "process.terminal: cannot open %s", name);
		goto out;
	}
	if (p->console_h || p->console_w) {
		struct winsize ws = { .ws_row = (unsigned short)p->console_h,
				      .ws_col = (unsigned short)p->console_w };
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	if (oci_send_fd(sock, master, name) < 0) {
		r = cap_errf(err, errno, "process.terminal: cannot send the pty to the console socket");
		goto out;
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0) {
		r = cap_errf(err, errno, "process.terminal: cannot make %s the controlling terminal", name);
		goto out;
	}
	if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0) {
		r = cap_errf(err, errno, "process.terminal: dup2");
		goto out;
	}
out:
	if (slave >= 0)
		close(slave);
	close(master);
	return r;
}

int oci_console_pair(int *ours, int *theirs, cap_err *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return cap_errf(err, errno, "console socketpair");
	*ours = sv[0];
	*theirs = sv[1];
	return 0;
}

int oci_recv_fd(int sock)
{
	char data[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Copy what is readable on `from` to `to`; returns 0 on EOF/EIO (the other side is gone). */
static int pump(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 1;  /* our output is gone; keep draining the pty */
		off += w;
	}
	return 1;
}

int oci_wait_forward(pid_t pid, const sigset_t *mask, int master, int *status)
{
	struct termios saved;
	bool raw = false;
	int sfd = signalfd(-1, mask, SFD_CLOEXEC);
	if (sfd < 0)
		return -errno;
	if (master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(0, TCSANOW, &t) == 0;
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	bool in_open = master >= 0, out_open = master >= 0, done = false;
	/* It may have exited before the caller blocked SIGCHLD, which is then lost. */
	if (waitpid(pid, status, WNOHANG) == pid)
		done = true;
	while (!done || out_open) {
		struct pollfd p[3] = { { .fd = sfd, .events = POLLIN },
				       { .fd = out_open ? master : -1, .events = POLLIN },
				       { .fd = in_open ? 0 : -1, .events = POLLIN } };
		/* After the exit only the pty's remaining output is wanted. */
		int n = poll(p, 3, done ? 50 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (p[1].revents)
			out_open = pump(master, 1);
		if (p[2].revents && !pump(0, master))
			in_open = false;
		if (!(p[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGCHLD) {
			pid_t w;
			int st;
			while ((w = waitpid(-1, &st, WNOHANG)) > 0)
				if (w == pid) {
					*status = st;
					done = true;
				}
		} else if (si.ssi_signo == SIGWINCH && master >= 0) {
			struct winsize ws;
			if (ioctl(0, TIOCGWINSZ, &ws) == 0)
				ioctl(master, TIOCSWINSZ, &ws);
		} else {
			kill(pid, (int)si.ssi_signo);
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	close(sfd);
	return 0;
}
