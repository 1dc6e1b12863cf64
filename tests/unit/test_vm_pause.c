/* The VM lifecycle on real KVM (SKIP without /dev/kvm), driven through the library as an API
 * caller would: create the machine, load a kernel, start; then pause and resume a guest whose
 * vCPUs count in guest memory (guest/tests/count.c) and check that no count moves while the VM
 * is paused, every vCPU is parked, the I/O loop runs no handler, and that all of it goes on after
 * the resume. Also lists the registered devices and which of them can save their state. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/lib/efd.h"
#include "../../src/lib/log.h"
#include "../../src/vmm/machine.h"

#define COUNT_MAGIC 0x31544e4353504143ULL
#define NCOUNT 64

struct counters {
	uint64_t magic;
	uint64_t ncpus;
	volatile uint64_t count[NCOUNT];
};

static char guest[PATH_MAX];
static const char *skip_why;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The counters live in the guest image's data, somewhere in 1-2 MiB. */
static struct counters *find_counters(struct vm *vm)
{
	uint8_t *p = guest_mem_ptr(&vm->mem, 0x100000, 0x100000);
	if (!p)
		return NULL;
	for (size_t off = 0; off + sizeof(struct counters) <= 0x100000; off += 8) {
		uint64_t m;
		memcpy(&m, p + off, 8);
		if (m == COUNT_MAGIC)
			return (struct counters *)(p + off);
	}
	return NULL;
}

/* Bounded wait (10 s) until every vCPU's count is above floor[i]. */
static bool all_above(struct counters *c, int n, const uint64_t *floor)
{
	for (int tries = 0; tries < 1000; tries++) {
		int ok = 0;
		for (int i = 0; i < n; i++)
			ok += c->count[i] > floor[i];
		if (ok == n)
			return true;
		sleep_ms(10);
	}
	return false;
}

static atomic_int io_calls;
static void on_io(void *opaque, uint32_t events)
{
	(void)events;
	efd_drain(*(int *)opaque);
	atomic_fetch_add(&io_calls, 1);
}

static int start_count_guest(struct vm *vm, int ncpus, cap_err *err)
{
	struct vm_config cfg;
	vm_config_init(&cfg);
	cfg.ncpus = ncpus;
	cfg.memory_mib = 64;
	cfg.console = VM_CONSOLE_NONE;
	int r = vm_config_set_string(&cfg.kernel, guest, err);
	if (r == 0)
		r = vm_create(vm, &cfg, err);
	vm_config_free(&cfg); /* the VM keeps its own copy */
	if (r == 0)
		r = vm_load_kernel(vm, err);
	if (r == 0)
		r = vm_start(vm, err);
	return r;
}

static void pause_resume(int ncpus)
{
	static struct vm vm;
	cap_err err = { 0 };
	uint64_t zero[NCOUNT] = { 0 }, at_pause[NCOUNT], later[NCOUNT];
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	atomic_store(&io_calls, 0);
	int r = start_count_guest(&vm, ncpus, &err);
	CHECK_EQ(r, 0);
	if (r < 0) {
		printf("# %s\n", err.msg);
		goto out;
	}
	CHECK_EQ(vm_get_state(&vm), VM_RUNNING);
	struct counters *c = find_counters(&vm);
	CHECK(c != NULL);
	if (!c)
		goto out;
	CHECK(all_above(c, ncpus, zero)); /* every vCPU is counting */
	CHECK_EQ(evloop_add(&vm.io, efd, EPOLLIN, on_io, &efd), 0);

	for (int round = 0; round < 2; round++) {
		CHECK_EQ(vm_pause(&vm, &err), 0);
		CHECK_EQ(vm_get_state(&vm), VM_PAUSED);
		CHECK_EQ(vm_parked_vcpus(&vm), ncpus);
		CHECK(evloop_is_quiesced(&vm.io));
		CHECK(vm_pause(&vm, &err) < 0); /* not running: refused */
		for (int i = 0; i < ncpus; i++)
			at_pause[i] = c->count[i];
		int calls = atomic_load(&io_calls);
		efd_signal(efd);		/* an event the parked I/O thread must not handle yet */
		sleep_ms(200);
		for (int i = 0; i < ncpus; i++) {
			later[i] = c->count[i];
			CHECK_EQ(later[i], at_pause[i]);
		}
		CHECK_EQ(atomic_load(&io_calls), calls);

		CHECK_EQ(vm_resume(&vm, &err), 0);
		CHECK_EQ(vm_get_state(&vm), VM_RUNNING);
		CHECK(vm_resume(&vm, &err) < 0); /* not paused: refused */
		CHECK(all_above(c, ncpus, at_pause));
		for (int tries = 0; tries < 1000 && atomic_load(&io_calls) == calls; tries++)
			sleep_ms(10);
		CHECK_EQ(atomic_load(&io_calls), calls + 1);
		CHECK(!evloop_is_quiesced(&vm.io));
	}
	/* Destroying a paused VM must not hang: the parked threads see STOPPED. */
	CHECK_EQ(vm_pause(&vm, &err), 0);
out:
	vm_destroy(&vm);
	close(efd);
}

static void test_pause_resume_1cpu(void)
{
	pause_resume(1);
}

static void test_pause_resume_2cpus(void)
{
	pause_resume(2);
}

static void test_pause_resume_4cpus(void)
{
	pause_resume(4);
}

/* A machine with one device of every kind. Which of them save their state is what the snapshot
 * work (issue 9) starts from: the legacy devices do, the virtio devices not yet. */
static void test_device_list(void)
{
	static struct vm vm;
	cap_err err = { 0 };
	char dir[] = "/tmp/capsule-devlist.XXXXXX", disk[PATH_MAX], uds[PATH_MAX], tap[16];
	struct vm_config cfg;
	bool with_net = access("/dev/net/tun", R_OK | W_OK) == 0 && geteuid() == 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(disk, sizeof(disk), "%s/disk.img", dir);
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	snprintf(tap, sizeof(tap), "capdl%d", (int)(getpid() % 100000));
	FILE *f = fopen(disk, "w");
	CHECK(f != NULL && ftruncate(fileno(f), 1 << 20) == 0);
	fclose(f);

	vm_config_init(&cfg);
	cfg.memory_mib = 64;
	cfg.console = VM_CONSOLE_NONE;
	cfg.rng = cfg.balloon = true;
	char vs[PATH_MAX + 32], net[64];
	snprintf(vs, sizeof(vs), "cid=3,uds=%s", uds);
	snprintf(net, sizeof(net), "tap=%s", tap);
	CHECK_EQ(vm_config_add_disk(&cfg, disk, &err), 0);
	CHECK_EQ(vm_config_add_disk(&cfg, disk, &err), 0);
	CHECK_EQ(vm_config_set_vsock(&cfg, vs, &err), 0);
	if (with_net)
		CHECK_EQ(vm_config_add_net(&cfg, net, &err), 0);
	int r = vm_create(&vm, &cfg, &err);
	CHECK_EQ(r, 0);
	if (r < 0)
		printf("# %s\n", err.msg);

	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	vm_device_list(&vm.devices, m);
	fclose(m);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		printf("# %s\n", line);
	free(text);
	m = open_memstream(&text, &len);
	vm_device_list(&vm.devices, m);
	fclose(m);
	const char *want =
		"serial serial save/restore: yes\n"
		"i8042 i8042 save/restore: yes\n"
		"boot-timer boot-timer save/restore: yes\n"
		"acpi-pm acpi-pm save/restore: yes\n"
		"test-exit test-exit save/restore: yes\n"
		"virtio-blk0 virtio-mmio save/restore: yes\n"
		"virtio-blk1 virtio-mmio save/restore: yes\n";
	CHECK(strncmp(text, want, strlen(want)) == 0);
	const char *rest = text + strlen(want);
	if (with_net) {
		CHECK(strncmp(rest, "virtio-net0 virtio-mmio save/restore: yes\n", 42) == 0);
		rest += strlen(rest) >= 42 ? 42 : strlen(rest);
	}
	CHECK_STR(rest, "virtio-vsock virtio-mmio save/restore: yes\n"
			"virtio-rng virtio-mmio save/restore: yes\n"
			"virtio-balloon virtio-mmio save/restore: yes\n");
	free(text);

	/* Every device's state together, one section each, read back by name. */
	struct vmstate_out out;
	vmstate_out_init(&out);
	cap_err e2 = { 0 };
	CHECK_EQ(vm_devices_save(&vm.devices, &out, &e2), 0);
	struct vmstate_in in;
	vmstate_in_init(&in, out.buf, out.len);
	CHECK_EQ(vm_devices_restore(&vm.devices, &in, &e2), 0);
	vmstate_in_init(&in, out.buf, out.len);
	CHECK_EQ(vmstate_open(&in, "virtio-blk1", NULL), 0);
	vmstate_out_free(&out);

	vm_destroy(&vm);
	vm_config_free(&cfg);
	unlink(disk);
	unlink(uds);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	(void)argc;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	/* $B/tests/unit/test_vm_pause -> $B/guest/count.elf */
	snprintf(guest, sizeof(guest), "%s/../../guest/count.elf", dirname(self));
	(void)argv;
	cap_log_set_level(CAP_LOG_ERROR);
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		skip_why = "/dev/kvm is not usable";
	else if (access(guest, R_OK) != 0)
		skip_why = "the count guest is not built (make guests)";
	if (skip_why) {
		SKIP(test_pause_resume_1cpu, skip_why);
		SKIP(test_pause_resume_2cpus, skip_why);
		SKIP(test_pause_resume_4cpus, skip_why);
		SKIP(test_device_list, skip_why);
		return 0;
	}
	RUN(test_pause_resume_1cpu);
	RUN(test_pause_resume_2cpus);
	RUN(test_pause_resume_4cpus);
	RUN(test_device_list);
	UNIT_EXIT();
}
