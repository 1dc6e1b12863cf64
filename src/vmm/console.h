/* The host side of the VM console: stdin into the UART, raw mode on a terminal, Ctrl-A x to quit. */
#ifndef CAPSULE_VMM_CONSOLE_H
#define CAPSULE_VMM_CONSOLE_H

#include <stdbool.h>
#include <termios.h>

struct vm;
struct evloop;

struct console {
	struct vm *vm;
	int in_fd;
	struct evloop *loop;
	bool raw;               /* the terminal was put in raw mode and must be restored */
	struct termios saved;
	bool escape;            /* the previous byte was Ctrl-A */
};

/* Start feeding in_fd to the VM's serial port from loop. A terminal goes to raw mode. */
int console_attach(struct console *c, struct vm *vm, int in_fd, struct evloop *loop);
/* Restore the terminal (idempotent; called on every exit path). */
void console_restore(struct console *c);

#endif
