/*
 * console-recv: the receiving end of an OCI --console-socket, as podman/conmon implement it.
 *
 *   console-recv SOCKET OUTFILE [INPUT]
 *
 * Listens on the AF_UNIX path SOCKET, accepts one connection, receives the PTY master with
 * SCM_RIGHTS, writes INPUT (if given) to it, then copies everything the container prints to
 * OUTFILE until the PTY hangs up (EIO once the last slave fd closes) or 30 s pass.
 * Exit status: 0 ok, 1 error (a one-line reason on stderr). Built by tests/oci/terminal.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "console-recv: %s: %s\n", what, strerror(errno));
	return 1;
}

static int recv_fd(int conn)
{
	char data[256];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct pollfd p;
	char buf[4096];
	int s, conn, master, out, ptn;
	ssize_t n;

	if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: console-recv SOCKET OUTFILE [INPUT]\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(s, 1) < 0)
		return die("listen");
	p = (struct pollfd){ .fd = s, .events = POLLIN };
	if (poll(&p, 1, 30000) != 1) {
		errno = ETIMEDOUT;
		return die("no connection");
	}
	conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return die("accept");
	master = recv_fd(conn);
	if (master < 0)
		return die("recvmsg SCM_RIGHTS");
	close(conn);
	close(s);
	/* It must be a PTY master, not just any fd. */
	if (ioctl(master, TIOCGPTN, &ptn) < 0)
		return die("received fd is not a pty master");
	out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return die(argv[2]);
	if (argc == 4 && write(master, argv[3], strlen(argv[3])) < 0)
		return die("write input");
	for (;;) {
		p = (struct pollfd){ .fd = master, .events = POLLIN };
		if (poll(&p, 1, 30000) != 1)
			break;
		n = read(master, buf, sizeof(buf));
		if (n <= 0)
			break; /* EIO: the slave side is gone */
		if (write(out, buf, n) != n)
			return die("write output");
	}
	close(out);
	close(master);
	return 0;
}
