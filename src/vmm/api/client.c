/* The API client (client.h). */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct reply_parse {
	char *body;
	size_t len;
	bool done, too_big;
};

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct reply_parse *rp = p->data;
	if (rp->len + n > API_CLIENT_MAX_RESPONSE) {
		rp->too_big = true;
		return -1;
	}
	char *b = realloc(rp->body, rp->len + n + 1);
	if (!b)
		return -1;
	memcpy(b + rp->len, at, n);
	rp->body = b;
	rp->len += n;
	b[rp->len] = 0;
	return 0;
}

static int on_complete(http_parser *p)
{
	((struct reply_parse *)p->data)->done = true;
	return 0;
}

static const http_parser_settings settings = { .on_body = on_body, .on_message_complete = on_complete };

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events before the deadline: 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int api_client_call(const char *sock, const char *method, const char *path, const char *body, struct api_reply *r,
		    cap_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct reply_parse rp = { 0 };
	http_parser p;
	char *req = NULL;
	int fd = -1, ret;
	int64_t deadline = now_ms() + API_CLIENT_TIMEOUT_MS;

	memset(r, 0, sizeof(*r));
	if (strlen(sock) >= sizeof(a.sun_path))
		return cap_errf(err, ENAMETOOLONG, "%s", sock);
	strcpy(a.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cap_errf(err, errno, "socket");
	/* A Unix connect waits only while the server's backlog is full: bounded by the timeout. */
	struct timeval tv = { .tv_sec = API_CLIENT_TIMEOUT_MS / 1000 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		ret = -errno;
		cap_errf(err, errno, "%s", sock);
		goto out;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
		r->pid = cred.pid;

	size_t blen = body ? strlen(body) : 0;
	int n = body ? asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
				      "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
				method, path, blen, body)
		     : asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
				method, path);
	if (n < 0) {
		req = NULL;
		ret = cap_errf(err, ENOMEM, "%s", sock);
		goto out;
	}
	for (size_t off = 0; off < (size_t)n;) {
		ssize_t w = send(fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((ret = wait_fd(fd, POLLOUT, deadline)) < 0) {
				cap_errf(err, -ret, "%s: sending the request", sock);
				goto out;
			}
		} else {
			ret = -errno;
			cap_errf(err, errno, "%s: sending the request", sock);
			goto out;
		}
	}

	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &rp;
	char buf[4096];
	while (!rp.done) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((ret = wait_fd(fd, POLLIN, deadline)) < 0) {
				cap_errf(err, -ret, "%s: waiting for the answer", sock);
				goto out;
			}
			continue;
		}
		if (got < 0) {
			ret = -errno;
			cap_errf(err, errno, "%s: reading the answer", sock);
			goto out;
		}
		size_t used = http_parser_execute(&p, &settings, buf, (size_t)got);
		/* A 100 Continue is a complete message of its own: skip it and go on. */
		if (rp.done && p.status_code == 100) {
			rp.done = false;
			continue;
		}
		if ((got == 0 && !rp.done) || (used != (size_t)got && !rp.done)) {
			ret = cap_errf(err, EPROTO, "%s: %s", sock,
				       rp.too_big ? "the answer is too large" : "not an HTTP answer from a VMM");
			goto out;
		}
	}
	r->status = (int)p.status_code;
	if (rp.body)
		r->body = json_loadb(rp.body, rp.len, 0, NULL);
	ret = 0;
out:
	free(rp.body);
	free(req);
	if (fd >= 0)
		close(fd);
	return ret;
}

void api_reply_free(struct api_reply *r)
{
	json_decref(r->body);
	r->body = NULL;
}

const char *api_reply_fault(const struct api_reply *r)
{
	json_t *m = r->body ? json_object_get(r->body, "fault_message") : NULL;
	return json_is_string(m) ? json_string_value(m) : "the VMM refused the request";
}
