#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../lib/evloop.h"
#include "../lib/log.h"
#include "console.h"
#include "machine.h"
#include "vcpu.h"

struct run_ctx {
	struct vm *vm;
	struct evloop *loop;
	int sig_fd;
};

static void on_stop(void *opaque, uint32_t events)
{
	struct run_ctx *ctx = opaque;
	(void)events;
	evloop_stop(ctx->loop);
}

static void on_signal(void *opaque, uint32_t events)
{
	struct run_ctx *ctx = opaque;
	struct signalfd_siginfo si;
	(void)events;
	if (read(ctx->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	int signo = (int)si.ssi_signo;
	pthread_mutex_lock(&ctx->vm->lock);
	if (!ctx->vm->stop_signal)
		ctx->vm->stop_signal = signo;
	pthread_mutex_unlock(&ctx->vm->lock);
	vm_request_stop(ctx->vm, VM_STOP_SIGNAL);
}

int vmm_run(const struct vm_config *cfg, cap_err *err)
{
	struct vm vm;
	struct evloop loop = { .epfd = -1, .wake_fd = -1 };
	struct console con = { 0 };
	struct run_ctx ctx = { .vm = &vm, .loop = &loop, .sig_fd = -1 };
	int rc = -1, r;
	sigset_t sigs, old;

	/* Signals become events on the main loop; every thread inherits the blocked mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sigaddset(&sigs, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	signal(SIGPIPE, SIG_IGN);

	/* The machine and every device first, so that their command-line fragments reach the kernel. */
	r = vm_create(&vm, cfg, err);
	if (r < 0)
		goto out;

	if ((r = evloop_init(&loop)) < 0) {
		cap_errf(err, -r, "main event loop");
		goto out;
	}
	sigdelset(&sigs, VCPU_KICK_SIGNAL);
	ctx.sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (ctx.sig_fd < 0 || evloop_add(&loop, ctx.sig_fd, EPOLLIN, on_signal, &ctx) < 0 ||
	    evloop_add(&loop, vm.stop_fd, EPOLLIN, on_stop, &ctx) < 0) {
		cap_errf(err, errno, "main event loop");
		goto out;
	}
	if (cfg->console == VM_CONSOLE_STDIO && (r = console_attach(&con, &vm, STDIN_FILENO, &loop)) < 0) {
		cap_errf(err, -r, "console input");
		goto out;
	}

	if ((r = vm_load_kernel(&vm, err)) < 0 || (r = vm_start(&vm, err)) < 0)
		goto out;
	evloop_run(&loop);

	console_close(&con);
	vm_destroy(&vm);
	rc = vm_exit_code(&vm);
	switch (vm.stop_reason) {
	case VM_STOP_FAULT:
		if (rc == CAP_EXIT_GUEST_PANIC)
			cap_errf_code(err, rc, 0, "vm: the guest kernel panicked");
		else
			cap_errf_code(err, rc, 0, "vm: %s", vm.fault[0] ? vm.fault : "vCPU fault");
		rc = -1;
		break;
	case VM_STOP_PANIC:
		cap_errf_code(err, rc, 0, "vm: the guest kernel panicked");
		rc = -1;
		break;
	case VM_STOP_POWEROFF:
	case VM_STOP_REBOOT:
		if (rc == CAP_EXIT_GUEST_PANIC) {
			cap_errf_code(err, rc, 0, "vm: the guest kernel panicked");
			rc = -1;
		}
		break;
	case VM_STOP_SIGNAL:
		cap_errf_code(err, CAP_EXIT_SIGNAL + vm.stop_signal, 0, "vm: stopped by signal %s",
			      strsignal(vm.stop_signal));
		rc = -1;
		break;
	case VM_STOP_CONSOLE:
		cap_errf_code(err, CAP_EXIT_CONSOLE_QUIT, 0, "vm: quit from the console (Ctrl-A x)");
		rc = -1;
		break;
	default:
		break;
	}
	goto done;
out:
	console_close(&con);
	vm_destroy(&vm);
done:
	if (ctx.sig_fd >= 0)
		close(ctx.sig_fd);
	if (loop.epfd >= 0)
		evloop_free(&loop);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
