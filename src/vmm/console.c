#include "console.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../lib/evloop.h"
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
	if (room == 0)
		return; /* the guest is not reading: leave the bytes in the pipe/tty */
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

int console_attach(struct console *c, struct vm *vm, int in_fd, struct evloop *loop)
{
	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->in_fd = in_fd;
	c->loop = loop;
	if (isatty(in_fd) && tcgetattr(in_fd, &c->saved) == 0) {
		struct termios t = c->saved;
		cfmakeraw(&t);
		t.c_oflag |= OPOST | ONLCR; /* keep the host's newline handling for guest output */
		if (tcsetattr(in_fd, TCSANOW, &t) == 0) {
			c->raw = true;
			restore_on_exit = c;
			atexit(restore_at_exit);
		}
	}
	int r = evloop_add(loop, in_fd, EPOLLIN, console_readable, c);
	if (r == -EPERM) /* a regular file or /dev/null cannot be polled: no input, nothing to do */
		return 0;
	return r;
}

void console_restore(struct console *c)
{
	if (c->raw) {
		tcsetattr(c->in_fd, TCSANOW, &c->saved);
		c->raw = false;
	}
}
