/* The steps the API drives on the real VM (instance.h's vmm_ops): boot, pause, resume, snapshot
 * create and load (snapshot.h), and the teardown at the end. They run on the main thread, the
 * VM's owner. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../lib/evloop.h"
#include "../lib/log.h"
#include "instance.h"
#include "migrate.h"
#include "devices/legacy.h"
#include "machine.h"
#include "snapshot.h"
#include "virtio/balloon.h"
#include "virtio/devices.h"
#include "sandbox/seccomp.h"

/* The VM wants to stop (poweroff, fault, signal): the main loop ends, and with it the process. */
static void on_vm_stop(void *opaque, uint32_t events)
{
	struct vmm_instance *in = opaque;
	(void)events;
	evloop_stop(in->loop);
}

/* What a booted and a restored VM both need once the machine exists: dirty tracking when asked
 * (machine-config track_dirty_pages, or a diff among --snapshot: diffs need it from the start), the
 * stop event on the main loop, and the console's input. */
static int attach_host_side(struct vmm_instance *in, cap_err *err)
{
	int r;
	if (in->track_dirty_pages && (r = vm_snapshot_track_dirty(&in->vm, err)) < 0)
		return r;
	if ((r = evloop_add(in->loop, in->vm.stop_fd, EPOLLIN, on_vm_stop, in)) < 0)
		return cap_errf(err, -r, "main event loop");
	if (in->vm.cfg.console == VM_CONSOLE_STDIO) {
		if ((r = console_attach(&in->con, &in->vm, STDIN_FILENO, in->loop)) < 0)
			return cap_errf(err, -r, "console input");
		in->con_attached = true;
	}
	return 0;
}

/* A failed boot or load goes back to "Not started", with nothing of the attempt left: it may be
 * retried. */
static void undo_start(struct vmm_instance *in)
{
	if (in->con_attached) {
		console_close(&in->con);
		memset(&in->con, 0, sizeof(in->con));
		in->con_attached = false;
	}
	if (in->vm.stop_fd >= 0)
		evloop_del(in->loop, in->vm.stop_fd);
	vm_destroy(&in->vm);
	in->created = false;
}

static int real_boot(struct vmm_instance *in, cap_err *err)
{
	int r;
	if (in->booted || in->created)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "InstanceStart: the VM has already started");
	if (!in->cfg.kernel)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0,
				     "InstanceStart: no kernel configured (PUT /boot-source with kernel_image_path first)");
	/* The machine and every device first, so that their command-line fragments reach the kernel. */
	r = vm_create(&in->vm, &in->cfg, err);
	in->created = true;
	if (r < 0)
		goto fail;
	if ((r = attach_host_side(in, err)) < 0)
		goto fail;
	if ((r = vm_load_kernel(&in->vm, err)) < 0 || (r = vm_start(&in->vm, err)) < 0)
		goto fail;
	/* Last, the main thread's own filter (the API's too: it runs on this thread's loop), once every
	 * other thread is made and has its own. Before the boot nothing runs that the guest drives. */
	if ((r = vmm_seccomp_enter("main", err)) < 0)
		goto fail;
	in->booted = true;
	in->t_boot_ns = vm_now_ns();
	if (in->balloon_mib) { /* PUT /balloon's initial target, once the device exists */
		struct vm_device *d = vm_device_find(&in->vm.devices, "virtio-balloon");
		if (d)
			virtio_balloon_set_target(d->opaque, (uint32_t)(in->balloon_mib << 8));
	}
	return 0;
fail:
	undo_start(in);
	return r;
}

static int need_booted(struct vmm_instance *in, const char *what, cap_err *err)
{
	if (!in->booted)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: the VM has not started yet", what);
	return 0;
}

static int real_snapshot_create(struct vmm_instance *in, const struct vm_snapshot_params *p, cap_err *err)
{
	int r = need_booted(in, "snapshot/create", err);
	return r < 0 ? r : vm_snapshot_create(&in->vm, p, err); /* refuses a VM that is not paused */
}

static int real_migrate(struct vmm_instance *in, const char *dest, unsigned max_downtime_ms,
			struct vm_migrate_stats *st, cap_err *err)
{
	int r = need_booted(in, "migrate", err);
	if (r < 0)
		return r;
	int fd = migrate_connect(dest, err);
	if (fd < 0)
		return fd;
	r = vm_migrate_send(&in->vm, fd, max_downtime_ms, st, err);
	close(fd);
	return r;
}

/* A VM from a snapshot instead of a boot (PUT /snapshot/load, capsule vm restore): what the guest
 * sees comes from the files, the host side (console, boot timer) from in->cfg. */
static int real_snapshot_load(struct vmm_instance *in, const struct vm_snapshot_params *p, cap_err *err)
{
	if (in->booted || in->created)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "snapshot/load: a VM already runs in this VMM");
	struct vm_snapshot_params q = *p;
	/* With tracking, paused first, so that the first diff holds every page dirtied after it. */
	q.resume = p->resume && !in->track_dirty_pages;
	uint64_t t0 = vm_now_ns();
	int r = vm_snapshot_restore(&in->vm, &q, &in->cfg, err);
	in->created = true;
	if (r < 0)
		goto fail;
	if ((r = attach_host_side(in, err)) < 0)
		goto fail;
	if (p->resume && !q.resume && (r = vm_resume(&in->vm, err)) < 0)
		goto fail;
	if (in->vm.cfg.boot_timer) {
		/* As the boot timer's lines for a boot: a launcher subtracts its launch time from the
		 * realtime at which the guest may run again (bench/vm_snapshot.sh). */
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		fprintf(stderr, "restore: %.3f ms (snapshot files -> guest %s; %.3f ms of it in "
			"KVM_SET_USER_MEMORY_REGION), %.2f CPU-ms since process start\n",
			(double)(vm_now_ns() - t0) / 1e6, p->resume ? "running" : "paused",
			(double)in->vm.memslot_ns / 1e6, vm_process_cpu_ms());
		fprintf(stderr, "restored: %lld.%06ld (realtime)\n", (long long)now.tv_sec, now.tv_nsec / 1000);
	}
	in->booted = true;
	in->t_boot_ns = vm_now_ns();
	return 0;
fail:
	undo_start(in);
	return r;
}

static int real_pause(struct vmm_instance *in, cap_err *err)
{
	int r = need_booted(in, "pause", err);
	if (r < 0)
		return r;
	enum vmm_state s = vmm_instance_state(in);
	if (s != VMM_RUNNING)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "pause: the VM is %s",
				     s == VMM_PAUSED ? "already paused" : "stopping");
	return vm_pause(&in->vm, err);
}

static int real_resume(struct vmm_instance *in, cap_err *err)
{
	int r = need_booted(in, "resume", err);
	if (r < 0)
		return r;
	enum vmm_state s = vmm_instance_state(in);
	if (s != VMM_PAUSED)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "resume: the VM is %s",
				     s == VMM_RUNNING ? "not paused" : "stopping");
	return vm_resume(&in->vm, err);
}

static int real_ctrl_alt_del(struct vmm_instance *in, cap_err *err)
{
	int r = need_booted(in, "SendCtrlAltDel", err);
	return r < 0 ? r : i8042_send_ctrl_alt_del(&in->vm, err);
}

/* The running VM's disk or interface by its API id, with its entry in the VM's configuration. */
static struct vm_device *find_device(struct vmm_instance *in, const char *what, const char *kind, const char *id,
				     int *index, cap_err *err)
{
	if (need_booted(in, what, err) < 0)
		return NULL;
	if (vmm_instance_state(in) == VMM_STOPPED) {
		cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: the VM is stopping", what);
		return NULL;
	}
	struct vm_device *d = vm_device_find_id(&in->vm.devices, kind, id);
	*index = !strcmp(kind, VM_ID_DRIVE) ? vm_config_find_disk(&in->vm.cfg, id) : vm_config_find_net(&in->vm.cfg, id);
	if (!d || *index < 0) {
		cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: no such %s '%s'", what, kind, id);
		return NULL;
	}
	return d;
}

static int real_drive_update(struct vmm_instance *in, const char *id, const char *path, const struct rl_config *rl,
			     cap_err *err)
{
	int i;
	struct vm_device *d = find_device(in, "PATCH /drives", VM_ID_DRIVE, id, &i, err);
	if (!d)
		return -EINVAL;
	if (path)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "drive %s: path_on_host: swapping the backing file is not supported yet",
				     id);
	if (rl) {
		int r = virtio_blk_set_rate_limit(d->opaque, rl, err);
		if (r < 0)
			return r;
		in->vm.cfg.disks[i].rl = *rl;
	}
	return 0;
}

static int real_net_update(struct vmm_instance *in, const char *id, const struct rl_config *rx,
			   const struct rl_config *tx, cap_err *err)
{
	int i;
	struct vm_device *d = find_device(in, "PATCH /network-interfaces", VM_ID_IFACE, id, &i, err);
	if (!d)
		return -EINVAL;
	int r = virtio_net_set_rate_limits(d->opaque, rx, tx, err);
	if (r < 0)
		return r;
	in->vm.cfg.nets[i].rx = *rx;
	in->vm.cfg.nets[i].tx = *tx;
	return 0;
}

static void real_teardown(struct vmm_instance *in)
{
	if (in->con_attached) {
		console_close(&in->con);
		in->con_attached = false;
	}
	if (in->created) {
		vm_destroy(&in->vm);
		in->created = false;
	}
}

/* As Firecracker: the file (often a FIFO) must exist; non-blocking, so that a FIFO nobody reads
 * fails a flush instead of stalling the main loop. */
static int real_open_metrics(struct vmm_instance *in, const char *path)
{
	(void)in;
	int fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

const struct vmm_ops vmm_real_ops = {
	.open_metrics = real_open_metrics,
	.teardown = real_teardown,
	.boot = real_boot,
	.pause = real_pause,
	.ctrl_alt_del = real_ctrl_alt_del,
	.resume = real_resume,
	.snapshot_create = real_snapshot_create,
	.snapshot_load = real_snapshot_load,
	.migrate = real_migrate,
	.drive_update = real_drive_update,
	.net_update = real_net_update,
};
