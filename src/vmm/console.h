/* The host side of the VM console: stdin into the UART, raw mode on a terminal, Ctrl-A x to quit. */
#ifndef CAPSULE_VMM_CONSOLE_H
#define CAPSULE_VMM_CONSOLE_H

#include <pthread.h>
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
	/* A regular file cannot be watched by epoll: a feeder thread copies it into a pipe. */
	int file_fd;            /* the regular file being fed, -1 if none */
	int pipe_wr;            /* the pipe's write end (the feeder's), -1 if none */
	pthread_t feeder;
	bool feeder_started;
	/* Input pauses while the guest's receive FIFO is full; the UART wakes it through this eventfd. */
	int resume_fd;
	bool paused;
};

/* Start feeding in_fd to the VM's serial port from loop. A terminal goes to raw mode. */
int console_attach(struct console *c, struct vm *vm, int in_fd, struct evloop *loop);
/* Restore the terminal (idempotent; called on every exit path). */
void console_restore(struct console *c);
/* Stop the feeder thread and close what console_attach opened (after the loop stopped). */
void console_close(struct console *c);

#endif
