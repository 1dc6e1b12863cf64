#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../lib/efd.h"
#include "../lib/evloop.h"
#include "../lib/log.h"
#include "sandbox/seccomp.h"
#include "devices/serial.h"
#include "vm.h"

#define CTRL_A 0x01

static struct console *restore_on_exit;

static void restore_at_exit(void)
{
	if (restore_on_exit)
		console_restore(restore_on_exit);
}

static void console_readable(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	uint8_t buf[256], out[256];
	size_t room = serial_input_room(c->vm->serial);

	(void)events;
	if (room == 0) {
		/* The guest is not reading: leave the bytes where they are and stop watching until
		 * it drains its FIFO (level-triggered epoll would otherwise spin). */
		evloop_del(c->loop, c->in_fd);
		c->paused = true;
		return;
	}
	ssize_t n = read(c->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		/* EOF or error: the guest simply gets no more input. */
		evloop_del(c->loop, c->in_fd);
		return;
	}
	size_t m = 0;
	for (ssize_t i = 0; i < n; i++) {
		uint8_t b = buf[i];
		if (c->raw && c->escape) {
			c->escape = false;
			if (b == 'x' || b == 'X') {
				vm_request_stop(c->vm, VM_STOP_CONSOLE);
				return;
			}
			if (b != CTRL_A)
				out[m++] = CTRL_A; /* not an escape after all */
		} else if (c->raw && b == CTRL_A) {
			c->escape = true;
			continue;
		}
		out[m++] = b;
	}
	if (m)
		serial_input(c->vm->serial, out, m);
}

static void on_drained(void *opaque)
{
	struct console *c = opaque;
	efd_signal(c->resume_fd);
}

static void on_resume(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	(void)events;
	efd_drain(c->resume_fd);
	if (c->paused && c->in_fd >= 0) {
		c->paused = false;
		evloop_add(c->loop, c->in_fd, EPOLLIN, console_readable, c);
	}
}

/* Copies the regular file to the pipe; a full pipe blocks it, a closed pipe (EPIPE) ends it. */
static void *feeder_thread(void *arg)
{
	struct console *c = arg;
	char buf[4096];
	ssize_t n;
	cap_err e = { 0 };

	if (vmm_seccomp_enter("console", &e) < 0) {
		cap_log(CAP_LOG_ERROR, "%s", e.msg); /* never unconfined: the VMM stops */
		_exit(CAP_EXIT_ERROR);
	}

	while ((n = read(c->file_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(c->pipe_wr, buf + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return NULL;
			}
			off += w;
		}
	}
	close(c->pipe_wr); /* EOF for the reader */
	c->pipe_wr = -1;
	return NULL;
}

static int attach_regular_file(struct console *c, int file_fd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	c->file_fd = file_fd;
	c->in_fd = p[0];
	c->pipe_wr = p[1];
	int r = pthread_create(&c->feeder, NULL, feeder_thread, c);
	if (r) {
		close(p[0]);
		close(p[1]);
		c->in_fd = file_fd;
		c->pipe_wr = -1;
		return -r;
	}
	c->feeder_started = true;
	return evloop_add(c->loop, c->in_fd, EPOLLIN, console_readable, c);
}

int console_attach(struct console *c, struct vm *vm, int in_fd, struct evloop *loop)
{
	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->in_fd = in_fd;
	c->loop = loop;
	c->file_fd = -1;
	c->pipe_wr = -1;
	c->resume_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->resume_fd < 0)
		return -errno;
	int rr = evloop_add(loop, c->resume_fd, EPOLLIN, on_resume, c);
	if (rr < 0)
		return rr;
	serial_set_drain_notify(vm->serial, on_drained, c);
	if (isatty(in_fd) && tcgetattr(in_fd, &c->saved) == 0) {
		struct termios t = c->saved;
		cfmakeraw(&t);
		t.c_oflag |= OPOST | ONLCR; /* keep the host's newline handling for guest output */
		if (tcsetattr(in_fd, TCSANOW, &t) == 0) {
			c->raw = true;
			static bool registered;
			restore_on_exit = c;
			if (!registered)
				atexit(restore_at_exit);
			registered = true;
		}
	}
	int r = evloop_add(loop, in_fd, EPOLLIN, console_readable, c);
	if (r == -EPERM) /* a regular file (or /dev/null) cannot be polled */
		return attach_regular_file(c, in_fd);
	return r;
}

void console_close(struct console *c)
{
	console_restore(c);
	if (c->vm && c->vm->serial)
		serial_set_drain_notify(c->vm->serial, NULL, NULL);
	if (c->resume_fd > 0)
		close(c->resume_fd);
	c->resume_fd = -1;
	if (c->feeder_started) {
		/* Closing the read end makes a blocked write fail with EPIPE (SIGPIPE is ignored). */
		close(c->in_fd);
		c->in_fd = -1;
		pthread_join(c->feeder, NULL);
		c->feeder_started = false;
		if (c->pipe_wr >= 0)
			close(c->pipe_wr);
		c->pipe_wr = -1;
	}
}

void console_restore(struct console *c)
{
	if (c->raw) {
		tcsetattr(c->in_fd, TCSANOW, &c->saved);
		c->raw = false;
	}
	/* The console lives on vmm_run's stack: the exit handler must not see it afterwards. */
	if (restore_on_exit == c)
		restore_on_exit = NULL;
}
