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
#include "devices/acpi_pm.h"
#include "devices/legacy.h"
#include "devices/serial.h"
#include "vcpu.h"
#include "virtio/devices.h"

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

/* *fd: where guest console output goes, -1 for nowhere. */
static int open_console_out(const struct vm_config *cfg, int *fd, cap_err *err)
{
	*fd = -1;
	if (cfg->console == VM_CONSOLE_STDIO)
		*fd = STDOUT_FILENO;
	if (cfg->console == VM_CONSOLE_FILE) {
		*fd = open(cfg->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (*fd < 0)
			return cap_errf(err, errno, "console file %s", cfg->console_path);
	}
	return 0;
}

int vmm_run(const struct vm_config *cfg, cap_err *err)
{
	struct vm vm;
	struct evloop loop = { .epfd = -1, .wake_fd = -1 };
	struct console con = { 0 };
	struct run_ctx ctx = { .vm = &vm, .loop = &loop, .sig_fd = -1 };
	int out_fd = -1, rc = -1, r;
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

	r = vm_create(&vm, cfg, err);
	if (r < 0)
		goto out;
	if ((r = open_console_out(cfg, &out_fd, err)) < 0)
		goto out;
	if ((r = serial_create(&vm, out_fd, &vm.serial, err)) < 0 || (r = i8042_create(&vm, err)) < 0 ||
	    (r = boot_timer_create(&vm, err)) < 0 || (r = acpi_pm_register(&vm, err)) < 0)
		goto out;
	/* Further devices (ACPI power management, virtio) are created here, before the kernel is
	 * loaded, so that their command-line fragments reach it. */
	if ((r = virtio_devices_create(&vm, cfg, err)) < 0)
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

	r = vm_boot(&vm, cfg, err);
	if (r < 0)
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
	default:
		break;
	}
	goto done;
out:
	console_close(&con);
	vm_destroy(&vm);
done:
	if (out_fd > STDERR_FILENO)
		close(out_fd);
	if (ctx.sig_fd >= 0)
		close(ctx.sig_fd);
	if (loop.epfd >= 0)
		evloop_free(&loop);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
