/* The VM's lifecycle steps (machine.h) and the one ordered list of the devices a machine has. */
#include "machine.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../lib/log.h"
#include "boot/acpi.h"
#include "boot/boot.h"
#include "boot/layout.h"
#include "cpuid.h"
#include "devices/legacy.h"
#include "devices/platform.h"
#include "kvm.h"
#include "sandbox/seccomp.h"
#include "vcpu.h"
#include "virtio/devices.h"

/* KVM's x86 needs three pages for the TSS and one for the EPT identity map below 4 GiB, outside RAM. */
#define KVM_TSS_ADDR 0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL

static int virtio_init(struct vm *vm, cap_err *err)
{
	return virtio_devices_create(vm, &vm->cfg, err);
}

/* Every device of the machine, created in this order (and destroyed in the reverse one), in
 * the spirit of kvmtool's init levels: the platform devices, the console first among them, so
 * that later failures can already be seen (devices/platform.h); then the virtio devices, which
 * allocate MMIO windows and GSIs and record them for the DSDT or the command line. Each
 * registers itself (device.h). */
static const struct device_init {
	const char *name;
	int (*init)(struct vm *vm, cap_err *err);
} device_inits[] = {
	{ "platform", platform_devices_create },
	{ "virtio", virtio_init },
};

static uint64_t host_memory_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	return pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
}

/* What needs no KVM comes first, so it fails fast and clearly. */
static int check_config(const struct vm_config *cfg, cap_err *err)
{
	int r = vm_config_validate(cfg, err);
	if (r < 0)
		return r;
	uint64_t host = host_memory_bytes();
	if (host && (cfg->memory_mib << 20) > host)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "memory %llu MiB: more than this host's %llu MiB",
				     (unsigned long long)cfg->memory_mib, (unsigned long long)(host >> 20));
	return 0;
}

static int create_kvm_vm(struct vm *vm, cap_err *err)
{
	int r = kvm_open(err);
	if (r < 0)
		return r;
	vm->kvm_fd = r;
	int max = kvm_max_vcpus(vm->kvm_fd);
	if (max > BOOT_MAX_CPUS) /* APIC IDs 0..n-1 plus the IOAPIC's ID must fit in 8 bits for the MP table */
		max = BOOT_MAX_CPUS;
	if (vm->ncpus > max)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "cpus %d: more than the %d vCPUs KVM allows here",
				     vm->ncpus, max);
	vm->kvm_pvm_host = kvm_is_pvm_host();

	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return cap_errf(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return cap_errf(err, errno, "KVM_CREATE_VM");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		return cap_errf(err, errno, "KVM_SET_TSS_ADDR");
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return cap_errf(err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return cap_errf(err, errno, "KVM_CREATE_IRQCHIP");
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return cap_errf(err, errno, "KVM_CREATE_PIT2");
	cap_debug("start: KVM VM created at %.2f CPU-ms", vm_process_cpu_ms());
	return 0;
}

static int create_memory(struct vm *vm, cap_err *err)
{
	int r = guest_mem_init(&vm->mem, vm->cfg.memory_mib << 20, err);
	if (r < 0)
		return r;
	for (int i = 0; i < vm->mem.nregions; i++) {
		struct kvm_userspace_memory_region reg = {
			.slot = (uint32_t)i,
			.guest_phys_addr = vm->mem.regions[i].gpa,
			.memory_size = vm->mem.regions[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)vm->mem.regions[i].host,
		};
		uint64_t t0 = vm_now_ns();
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &reg) < 0)
			return cap_errf(err, errno, "KVM_SET_USER_MEMORY_REGION (slot %d)", i);
		vm->memslot_ns += vm_now_ns() - t0;
	}
	cap_debug("start: guest memory registered at %.2f CPU-ms", vm_process_cpu_ms());
	return 0;
}

static int create_devices(struct vm *vm, cap_err *err)
{
	for (size_t i = 0; i < sizeof(device_inits) / sizeof(device_inits[0]); i++) {
		int r = device_inits[i].init(vm, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int create_vcpus(struct vm *vm, cap_err *err)
{
	int r = 0;
	struct kvm_cpuid2 *cpuid = kvm_supported_cpuid(vm->kvm_fd, err);
	if (!cpuid)
		return err->errnum ? -err->errnum : -EIO;
	vm->vcpus = calloc((size_t)vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		r = cap_errf(err, ENOMEM, "vCPUs");
		goto out;
	}
	for (int i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	struct cpuid_policy pol = {
		.ncpus = vm->ncpus,
		.hide_cx16 = vm->kvm_pvm_host,
		.tsc_deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0,
	};
	for (int i = 0; i < vm->ncpus && r == 0; i++)
		r = vcpu_create(&vm->vcpus[i], vm, i, cpuid, &pol, err);
	if (r == 0)
		cap_debug("start: vCPUs created at %.2f CPU-ms", vm_process_cpu_ms());
out:
	free(cpuid);
	return r;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, cap_err *err)
{
	vm_init(vm);

	int r = check_config(cfg, err);
	if (r < 0)
		return r;
	if (vm_config_copy(&vm->cfg, cfg) < 0)
		return cap_errf(err, ENOMEM, "VM configuration");
	vm->boot_timer = vm->cfg.boot_timer;
	vm->ncpus = vm->cfg.ncpus;

	if ((r = create_kvm_vm(vm, err)) < 0 || (r = create_memory(vm, err)) < 0)
		return r;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return cap_errf(err, errno, "eventfd");
	r = evloop_init(&vm->io);
	if (r < 0)
		return cap_errf(err, -r, "I/O event loop");
	if ((r = create_devices(vm, err)) < 0 || (r = create_vcpus(vm, err)) < 0)
		return r;
	return 0;
}

/* "acpi=off" as a word of the command line (not e.g. "xacpi=off" or "acpi=offline"). */
static bool cmdline_has_word(const char *cmdline, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = cmdline; (p = strstr(p, word)); p += n)
		if ((p == cmdline || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return true;
	return false;
}

/* The user's command line, the root disk's words, what devices asked for, host workarounds. */
static int build_cmdline(struct vm *vm, bool acpi_off, char **out, cap_err *err)
{
	const char *user = vm->cfg.cmdline ? vm->cfg.cmdline : VM_DEFAULT_CMDLINE;
	const char *root = vm->cfg.root_disk ? " root=/dev/vda rw" : "";

	if (acpi_off) {
		/* Without ACPI the guest learns of virtio-mmio devices from its command line
		 * (a kernel with VIRTIO_MMIO_CMDLINE_DEVICES). */
		for (int i = 0; i < vm->nvirtio_mmio; i++) {
			int r = vm_append_cmdline(vm, "virtio_mmio.device=%uK@0x%llx:%u", vm->virtio_mmio[i].size >> 10,
						  (unsigned long long)vm->virtio_mmio[i].addr, vm->virtio_mmio[i].gsi);
			if (r < 0)
				return cap_errf(err, -r, "kernel command line: too many devices");
		}
	}
	size_t cap = strlen(user) + strlen(root) + strlen(vm->cmdline_extra) + 64;
	char *cmdline = malloc(cap);
	if (!cmdline)
		return cap_errf(err, ENOMEM, "kernel command line");
	snprintf(cmdline, cap, "%s%s%s%s", user, root, vm->cmdline_extra[0] ? " " : "", vm->cmdline_extra);
	if (vm->kvm_pvm_host && !strstr(cmdline, "noxsave"))
		strcat(cmdline, " noxsave"); /* kvm_pvm's emulator cannot execute xrstor */
	*out = cmdline;
	return 0;
}

int vm_load_kernel(struct vm *vm, cap_err *err)
{
	struct boot_info bi;
	char *cmdline = NULL;
	const char *user = vm->cfg.cmdline ? vm->cfg.cmdline : VM_DEFAULT_CMDLINE;
	bool acpi_off = cmdline_has_word(user, "acpi=off");
	int r;

	if (vm->state != VM_CREATED)
		return cap_errf(err, EBUSY, "kernel %s: the VM has already started", vm->cfg.kernel ? vm->cfg.kernel : "");
	if ((r = build_cmdline(vm, acpi_off, &cmdline, err)) < 0)
		return r;
	struct boot_config bc = {
		.kernel_path = vm->cfg.kernel,
		.initrd_path = vm->cfg.initrd,
		.cmdline = cmdline,
		.ncpus = vm->ncpus,
		.guest_decompress = vm->cfg.guest_decompress,
		.pvh = vm->cfg.pvh,
		.acpi_rsdp = ACPI_RSDP_ADDR, /* the guest need not scan the BIOS area */
	};
	r = boot_load(&vm->mem, &bc, &bi, err);
	if (r < 0)
		goto out;
	vm->test_guest = bi.kind == BOOT_ENTRY_TEST_GUEST;
	/* ACPI describes the CPUs (MADT) and the power-off/reset registers; kernels built without
	 * MP-table support (Debian's cloud kernel) need it to see more than one CPU. */
	r = acpi_write_tables(&vm->mem, vm->ncpus, acpi_off ? NULL : vm->virtio_mmio, acpi_off ? 0 : vm->nvirtio_mmio,
			      err);
	if (r < 0)
		goto out;
	cap_debug("start: kernel loaded at %.2f CPU-ms", vm_process_cpu_ms());
	cap_info("kernel: %s, entry 0x%llx", bi.format, (unsigned long long)bi.entry);
	if (bi.decompress_ms > 0)
		cap_info("kernel payload decompressed on the host in %.1f ms", bi.decompress_ms);
	if (vm->test_guest) {
		test_exit_arm(vm);
	} else if (vm->kvm_pvm_host) {
		cap_warn("this host's KVM is kvm_pvm (nested): guest ring 0 is emulated and a stock Linux kernel stops "
			 "early (its int3 self-test); real kernels need hardware KVM or the nested harness (tests/vm/linux)");
	}
	/* Linux starts its APs itself (INIT/SIPI); a test guest gets every vCPU at its entry. */
	for (int i = 0; i < vm->ncpus && r == 0; i++)
		if (i == 0 || vm->test_guest)
			r = vcpu_setup_boot(&vm->vcpus[i], &bi, err);
	if (r == 0)
		cap_debug("start: vCPUs set up at %.2f CPU-ms", vm_process_cpu_ms());
out:
	free(cmdline);
	return r;
}

static void set_state(struct vm *vm, enum vm_state s)
{
	pthread_mutex_lock(&vm->lock);
	__atomic_store_n(&vm->state, s, __ATOMIC_RELEASE); /* vCPU threads read it unlocked */
	pthread_mutex_unlock(&vm->lock);
}

/* The I/O thread's first step: its own filter, before any guest-driven event is handled. */
static int io_thread_init(void *arg)
{
	struct vm *vm = arg;
	cap_err e = { 0 };
	if (vmm_seccomp_enter("io", &e) < 0) {
		vm_fault(vm, "I/O thread: %s", e.msg);
		return -1;
	}
	return 0;
}

int vm_start(struct vm *vm, cap_err *err)
{
	if (vm->state != VM_CREATED)
		return cap_errf(err, EBUSY, "VM: already started");
	vcpu_install_kick_handler();
	int r = evloop_start_thread_init(&vm->io, "capsule-io", io_thread_init, vm);
	if (r < 0)
		return cap_errf(err, -r, "I/O thread");
	set_state(vm, VM_RUNNING);
	vm->t_vm_start_ns = vm_now_ns();
	for (int i = 0; i < vm->ncpus; i++) {
		r = vcpu_start(&vm->vcpus[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool all_vcpus_parked(struct vm *vm)
{
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->thread_started && !v->parked && !v->exited)
			return false;
	}
	return true;
}

int vm_pause(struct vm *vm, cap_err *err)
{
	pthread_mutex_lock(&vm->lock);
	enum vm_state s = vm->state;
	if (s == VM_RUNNING)
		__atomic_store_n(&vm->state, VM_PAUSED, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->lock);
	if (s != VM_RUNNING)
		return cap_errf(err, s == VM_PAUSED ? EALREADY : EINVAL, "VM: cannot pause, it is not running");

	pthread_mutex_lock(&vm->pause_lock);
	__atomic_store_n(&vm->pause_requested, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->pause_lock);
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->pause_lock);
	while (!all_vcpus_parked(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
	/* No vCPU kicks a queue any more; park the I/O thread so no device starts new work, then
	 * let each device finish what still runs on its own (virtio-blk's requests in flight). */
	evloop_quiesce(&vm->io);
	vm_devices_pause(&vm->devices);
	return 0;
}

int vm_resume(struct vm *vm, cap_err *err)
{
	pthread_mutex_lock(&vm->lock);
	enum vm_state s = vm->state;
	if (s == VM_PAUSED)
		__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->lock);
	if (s != VM_PAUSED)
		return cap_errf(err, EINVAL, "VM: cannot resume, it is not paused");
	vm_devices_resume(&vm->devices);
	evloop_release(&vm->io);
	pthread_mutex_lock(&vm->pause_lock);
	__atomic_store_n(&vm->pause_requested, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

int vm_parked_vcpus(struct vm *vm)
{
	int n = 0;
	pthread_mutex_lock(&vm->pause_lock);
	for (int i = 0; i < vm->ncpus; i++)
		n += vm->vcpus[i].parked;
	pthread_mutex_unlock(&vm->pause_lock);
	return n;
}

void vm_destroy(struct vm *vm)
{
	set_state(vm, VM_STOPPED);
	if (vm->vcpus) {
		/* Parked threads wait on pause_cond: wake them to see STOPPED. */
		pthread_mutex_lock(&vm->pause_lock);
		pthread_cond_broadcast(&vm->pause_cond);
		pthread_mutex_unlock(&vm->pause_lock);
		for (int i = 0; i < vm->ncpus; i++)
			vcpu_kick(&vm->vcpus[i]);
		for (int i = 0; i < vm->ncpus; i++)
			vcpu_join(&vm->vcpus[i]);
	}
	if (vm->io.epfd >= 0)
		evloop_free(&vm->io); /* stops a quiesced loop too */
	vm_devices_destroy(&vm->devices);
	if (vm->vcpus) {
		for (int i = 0; i < vm->ncpus; i++)
			vcpu_free(&vm->vcpus[i]);
		free(vm->vcpus);
		vm->vcpus = NULL;
	}
	if (vm->mem.base)
		guest_mem_free(&vm->mem);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->stop_fd = vm->vm_fd = vm->kvm_fd = -1;
	vm_config_free(&vm->cfg);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_mutex_destroy(&vm->lock);
}
