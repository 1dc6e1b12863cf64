/* The console socket, as runc and crun do it: connect to the AF_UNIX path given with
 * --console-socket and send the pty master with SCM_RIGHTS (the pty's name as data). */
#include "container.h"

#include <errno.h>
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
