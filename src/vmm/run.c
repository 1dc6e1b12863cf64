#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../lib/evloop.h"
#include "../lib/log.h"
#include "api/api.h"
#include "api/config_file.h"
#include "instance.h"
#include "machine.h"
#include "migrate.h"
#include "run_snapshot.h"
#include "snapshot.h"
#include "sandbox/seccomp.h"
#include "vcpu.h"

struct run_ctx {
	struct vmm_instance *in;
	struct run_snapshots *snaps;    /* --snapshot */
	struct evloop *loop;
	int sig_fd;
	int signo;              /* a stop signal that came before the VM started */
};

static void on_signal(void *opaque, uint32_t events)
{
	struct run_ctx *ctx = opaque;
	struct signalfd_siginfo si;
	(void)events;
	if (read(ctx->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	int signo = (int)si.ssi_signo;
	if (signo == SIGUSR1) { /* --snapshot on=usr1 */
		if (ctx->in->created)
			run_snapshots_signal(ctx->snaps);
		return;
	}
	if (!ctx->in->created) {
		/* Still waiting to be configured: nothing to stop but the loop. */
		ctx->signo = signo;
		evloop_stop(ctx->loop);
		return;
	}
	struct vm *vm = &ctx->in->vm;
	pthread_mutex_lock(&vm->lock);
	if (!vm->stop_signal)
		vm->stop_signal = signo;
	pthread_mutex_unlock(&vm->lock);
	vm_request_stop(vm, VM_STOP_SIGNAL);
}

/* Why the VM ended, as capsule's exit code (and its one line in err when it is a failure). */
static int stop_report(struct vm *vm, cap_err *err)
{
	int rc = vm_exit_code(vm);
	switch (vm->stop_reason) {
	case VM_STOP_FAULT:
		if (rc == CAP_EXIT_GUEST_PANIC)
			cap_errf_code(err, rc, 0, "vm: the guest kernel panicked");
		else
			cap_errf_code(err, rc, 0, "vm: %s", vm->fault[0] ? vm->fault : "vCPU fault");
		return -1;
	case VM_STOP_PANIC:
		cap_errf_code(err, rc, 0, "vm: the guest kernel panicked");
		return -1;
	case VM_STOP_POWEROFF:
	case VM_STOP_REBOOT:
		if (rc == CAP_EXIT_GUEST_PANIC) {
			cap_errf_code(err, rc, 0, "vm: the guest kernel panicked");
			return -1;
		}
		return rc;
	case VM_STOP_SIGNAL:
		cap_errf_code(err, CAP_EXIT_SIGNAL + vm->stop_signal, 0, "vm: stopped by signal %s",
			      strsignal(vm->stop_signal));
		return -1;
	case VM_STOP_CONSOLE:
		cap_errf_code(err, CAP_EXIT_CONSOLE_QUIT, 0, "vm: quit from the console (Ctrl-A x)");
		return -1;
	case VM_STOP_MIGRATED:
		cap_info("vm: migrated: the destination runs the guest");
		return 0;
	default:
		return rc;
	}
}

/* capsule vm receive: one migration stream, restored as a snapshot, then the source told. */
static int receive_migration(struct vmm_instance *in, const struct vmm_run_opts *o, cap_err *err)
{
	char state[PATH_MAX], mem[PATH_MAX];
	int fds[2], lfd = migrate_listen(o->receive, err);
	if (lfd < 0)
		return -1;
	cap_info("waiting for a migration on %s", o->receive);
	int fd = migrate_accept(lfd, o->receive, err);
	if (fd < 0)
		return -1;
	int r = vm_migrate_receive(fd, state, mem, fds, err);
	if (r == 0) {
		struct vm_snapshot_params p = { .state_path = state, .mem_path = mem, .resume = !o->receive_paused };
		r = in->ops->snapshot_load(in, &p, err);
		close(fds[0]);
		close(fds[1]);
	}
	vm_migrate_answer(fd, r < 0 ? err : NULL);
	close(fd);
	if (r < 0)
		cap_err_prefix(err, "vm receive");
	return r;
}

int vmm_run(const struct vm_config *cfg, const struct vmm_run_opts *o, cap_err *err)
{
	struct vmm_instance in;
	struct evloop loop = { .epfd = -1, .wake_fd = -1 };
	struct api_server api = { .listen_fd = -1, .timer_fd = -1 };
	struct run_snapshots snaps = { .tfd = -1 };
	struct run_ctx ctx = { .in = &in, .snaps = &snaps, .loop = &loop, .sig_fd = -1 };
	int rc = -1, r;
	sigset_t sigs, old;
	static const struct vmm_run_opts none = { 0 };

	if (!o)
		o = &none;
	memset(&in, 0, sizeof(in));
	in.metrics_fd = -1;
	/* Signals become events on the main loop; every thread inherits the blocked mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	signal(SIGPIPE, SIG_IGN);

	vmm_seccomp_set_mode(cfg->seccomp);
	/* The API and --snapshot make the running VMM's main thread open and write files at any time:
	 * its filter would have to allow that, so it has none (the guest-driven threads keep theirs). */
	if (o->api_sock)
		vmm_seccomp_exempt_main("it serves the API socket");
	else if (o->nsnapshots)
		vmm_seccomp_exempt_main("it writes --snapshot files");
	if ((r = evloop_init(&loop)) < 0) {
		cap_errf(err, -r, "main event loop");
		goto out;
	}
	if (vmm_instance_init(&in, o->id, cfg, &loop, &vmm_real_ops, err) < 0)
		goto out;
	if (o->config_file && api_apply_config_file(&in, o->config_file, err) < 0)
		goto out;
	if (!in.cfg.kernel && !o->restore && !o->receive && !o->api_sock) {
		cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm run: %s has no boot-source (and there is no API socket to give one)",
			      o->config_file ? o->config_file : "the configuration");
		goto out;
	}
	sigdelset(&sigs, VCPU_KICK_SIGNAL);
	ctx.sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (ctx.sig_fd < 0 || evloop_add(&loop, ctx.sig_fd, EPOLLIN, on_signal, &ctx) < 0) {
		cap_errf(err, errno, "main event loop");
		goto out;
	}
	/* The socket before the boot: a client may connect as soon as the VM runs. */
	if (o->api_sock) {
		if (o->default_dir && api_make_run_dir(err) < 0)
			goto out;
		if (api_server_start(&api, o->api_sock, &loop, &in, err) < 0)
			goto out;
	}
	/* A diff among the --snapshot specs: dirty-page tracking from the start. */
	if (run_snapshots_need_dirty_log(o->snapshots, o->nsnapshots))
		in.track_dirty_pages = true;
	if (o->receive) {
		if (receive_migration(&in, o, err) < 0)
			goto out;
	} else if (o->restore) {
		if (in.ops->snapshot_load(&in, o->restore, err) < 0)
			goto out;
	} else if (in.cfg.kernel && in.ops->boot(&in, err) < 0) {
		goto out;
	}
	if (!in.cfg.kernel && !o->restore && !o->receive)
		cap_info("waiting for the VM's configuration on %s", o->api_sock);
	if (in.created && run_snapshots_start(&snaps, &in.vm, &loop, o->snapshots, o->nsnapshots, err) < 0)
		goto out;
	evloop_run(&loop);

	api_server_stop(&api);
	if (in.con_attached) {
		console_close(&in.con);
		in.con_attached = false;
	}
	if (in.created) {
		vm_destroy(&in.vm);
		in.created = false;
		if (snaps.r < 0) {
			if (!err->set)
				*err = snaps.err;
		} else if (snaps.done && in.vm.stop_reason == VM_STOP_NONE) {
			rc = 0; /* the run ended with its last snapshot */
		} else {
			rc = stop_report(&in.vm, err);
		}
	} else if (ctx.signo) {
		cap_errf_code(err, CAP_EXIT_SIGNAL + ctx.signo, 0, "vm: stopped by signal %s before it started",
			      strsignal(ctx.signo));
	} else {
		rc = 0;
	}
out:
	api_server_stop(&api);
	vmm_instance_free(&in);
	if (ctx.sig_fd >= 0)
		close(ctx.sig_fd);
	if (loop.epfd >= 0)
		evloop_free(&loop);
	run_snapshots_free(&snaps);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
