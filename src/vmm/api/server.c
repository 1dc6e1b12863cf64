/* The API's sockets (api.h): the listening Unix socket, its connections (edge-triggered,
 * non-blocking, each with a conn.c parser and its own buffers), and one timerfd that enforces
 * the per-connection deadlines while any connection is open. */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../lib/evloop.h"
#include "../../lib/log.h"
#include "../instance.h"
#include "../vm.h"
#include "conn.h"

struct api_client {
	struct api_server *s;
	int fd;
	struct api_conn conn;
	bool was_busy;
	uint64_t t_request;            /* the request in progress began */
	uint64_t t_activity;           /* the last byte in or out */
	uint64_t t_write;              /* the last byte out (or when output began to wait) */
	struct api_client *next;
};

#define MS (1000000ULL)

static void client_close(struct api_client *c)
{
	struct api_server *s = c->s;
	evloop_del(s->loop, c->fd);
	close(c->fd);
	for (struct api_client **pp = &s->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->nclients--;
	api_conn_free(&c->conn);
	free(c);
}

static size_t pending(const struct api_client *c)
{
	return c->conn.out_len - c->conn.out_off;
}

/* Write what waits; false when the connection broke. */
static bool flush(struct api_client *c)
{
	while (pending(c)) {
		ssize_t n = send(c->fd, c->conn.out + c->conn.out_off, pending(c), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			c->t_activity = c->t_write = vm_now_ns();
			api_conn_sent(&c->conn, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
	return true;
}

static void note_busy(struct api_client *c)
{
	bool busy = api_conn_busy(&c->conn);
	if (busy && !c->was_busy)
		c->t_request = vm_now_ns();
	c->was_busy = busy;
}

/* Edge-triggered: read and write until the socket says EAGAIN (or input must wait for the
 * output to drain, which the next EPOLLOUT edge resumes). */
static void client_io(void *opaque, uint32_t events)
{
	struct api_client *c = opaque;
	bool eof = false;
	(void)events;

	for (;;) {
		if (!flush(c) || c->conn.failed)
			goto close;
		size_t room = api_conn_room(&c->conn);
		if (room == 0 || eof)
			break;
		ssize_t n = recv(c->fd, c->conn.in_buf + c->conn.in_len, room, MSG_DONTWAIT);
		if (n > 0) {
			size_t was = pending(c);
			c->t_activity = vm_now_ns();
			api_conn_received(&c->conn, (size_t)n);
			if (!was && pending(c))
				c->t_write = vm_now_ns();
			note_busy(c);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			goto close;
		/* The client closed its side (or the whole connection): answer what is complete. */
		eof = true;
		api_conn_eof(&c->conn);
	}
	note_busy(c);
	if (c->conn.close_after && !pending(c))
		goto close;
	return;
close:
	client_close(c);
}

static void arm_timer(struct api_server *s, bool on)
{
	if (on == s->timer_armed)
		return;
	struct itimerspec it = { 0 };
	if (on)
		it.it_interval.tv_nsec = it.it_value.tv_nsec = 250 * MS;
	timerfd_settime(s->timer_fd, 0, &it, NULL);
	s->timer_armed = on;
}

static void on_timer(void *opaque, uint32_t events)
{
	struct api_server *s = opaque;
	uint64_t ticks;
	(void)events;
	if (read(s->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	uint64_t now = vm_now_ns();
	struct api_client *next;
	for (struct api_client *c = s->clients; c; c = next) {
		next = c->next;
		if (pending(c)) {
			if (now - c->t_write > API_WRITE_TIMEOUT_MS * MS) {
				cap_debug("api: closing a connection that does not read its response");
				client_close(c);
			}
		} else if (api_conn_busy(&c->conn)) {
			if (now - c->t_request > API_REQUEST_TIMEOUT_MS * MS) {
				cap_debug("api: request timeout");
				api_conn_timeout(&c->conn);
				c->t_write = now;
				if (!flush(c) || !pending(c))
					client_close(c);
			}
		} else if (now - c->t_activity > (c->conn.over_limit ? API_REQUEST_TIMEOUT_MS : API_IDLE_TIMEOUT_MS) * MS) {
			client_close(c);
		}
	}
	arm_timer(s, s->clients != NULL);
}

static void on_accept(void *opaque, uint32_t events)
{
	struct api_server *s = opaque;
	(void)events;
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				cap_warn("api: accept on %s: %s", s->path, strerror(errno));
			return;
		}
		/* Past the limit a few more are read and answered 503 (closing at once would reset the
		 * connection before the client reads why); past those, they are closed. */
		bool over = s->nclients >= API_MAX_CLIENTS;
		struct api_client *c = s->nclients < API_MAX_CLIENTS + API_MAX_OVER ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		c->s = s;
		c->fd = fd;
		c->t_activity = vm_now_ns();
		api_conn_init(&c->conn, s->in);
		c->conn.over_limit = over;
		if (evloop_add(s->loop, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, client_io, c) < 0) {
			api_conn_free(&c->conn);
			free(c);
			close(fd);
			continue;
		}
		c->next = s->clients;
		s->clients = c;
		s->nclients++;
		arm_timer(s, true);
	}
}

/* Is something serving path? A stale socket (its VMM died) refuses the connection. */
static bool socket_live(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool live = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return live;
}

int api_server_start(struct api_server *s, const char *path, struct evloop *loop, struct vmm_instance *in,
		     cap_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int r;

	memset(s, 0, sizeof(*s));
	s->listen_fd = s->timer_fd = -1;
	s->loop = loop;
	s->in = in;
	if (!*path)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "API socket: the path is empty");
	if (strlen(path) >= sizeof(a.sun_path))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "API socket %s: longer than %zu bytes", path,
				     sizeof(a.sun_path) - 1);
	strcpy(a.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "API socket %s: exists and is not a socket", path);
		if (socket_live(path))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "API socket %s: another VMM is serving it", path);
		if (unlink(path) < 0 && errno != ENOENT)
			return cap_errf(err, errno, "API socket %s: removing the stale socket", path);
	}
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return cap_errf(err, errno, "API socket");
	/* Only the owner may drive the VM: the socket is made 0600 from the start. */
	mode_t old = umask(0177);
	r = bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0) {
		r = cap_errf(err, errno, "API socket %s", path);
		goto fail;
	}
	if (!(s->path = strdup(path))) {
		r = cap_errf(err, ENOMEM, "API socket");
		unlink(path);
		goto fail;
	}
	if (stat(path, &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	if (listen(s->listen_fd, 64) < 0) {
		r = cap_errf(err, errno, "API socket %s: listen", path);
		goto fail;
	}
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timer_fd < 0) {
		r = cap_errf(err, errno, "API socket: timer");
		goto fail;
	}
	if ((r = evloop_add(loop, s->listen_fd, EPOLLIN, on_accept, s)) < 0 ||
	    (r = evloop_add(loop, s->timer_fd, EPOLLIN, on_timer, s)) < 0) {
		cap_errf(err, -r, "API socket: main event loop");
		goto fail;
	}
	cap_debug("api: serving %s", path);
	return 0;
fail:
	api_server_stop(s);
	return r;
}

void api_server_stop(struct api_server *s)
{
	while (s->clients)
		client_close(s->clients);
	if (s->timer_fd >= 0) {
		evloop_del(s->loop, s->timer_fd);
		close(s->timer_fd);
	}
	if (s->listen_fd >= 0) {
		evloop_del(s->loop, s->listen_fd);
		close(s->listen_fd);
	}
	struct stat st;
	if (s->path && stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s->path);
	s->path = NULL;
	s->listen_fd = s->timer_fd = -1;
}

int api_default_sock(const char *id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.sock", API_RUN_DIR, id);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int api_make_run_dir(cap_err *err)
{
	char p[] = API_RUN_DIR;
	for (char *q = p + 1;; q++) {
		if (*q == '/' || !*q) {
			char c = *q;
			*q = 0;
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				return cap_errf(err, errno, "%s", p);
			*q = c;
			if (!c)
				break;
		}
	}
	return 0;
}
