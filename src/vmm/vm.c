#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../lib/efd.h"
#include "../lib/log.h"
#include "boot/acpi.h"
#include "boot/boot.h"
#include "boot/layout.h"
#include "cpuid.h"
#include "kvm.h"
#include "vcpu.h"
#include "devices/legacy.h"

/* KVM's x86 needs three pages for the TSS and one for the EPT identity map below 4 GiB, outside RAM. */
#define KVM_TSS_ADDR 0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
/* First GSI handed to devices: 0-4 are PIT, keyboard, cascade, COM2, COM1. */
#define FIRST_DEVICE_IRQ 5

double vm_process_cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

uint64_t vm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t host_memory_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	return pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, cap_err *err)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->stop_fd = -1;
	vm->mem.memfd = -1;
	vm->io.epfd = vm->io.wake_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	bus_init(&vm->pio, "port I/O");
	bus_init(&vm->mmio, "MMIO");
	vm->next_mmio = MMIO_VIRTIO_BASE;
	vm->next_irq = FIRST_DEVICE_IRQ;
	vm->boot_timer = cfg->boot_timer;
	vm->ncpus = cfg->ncpus;

	/* Input checks that do not need KVM come first, so they fail fast and clearly. */
	if (cfg->memory_mib < VM_MIN_MEMORY_MIB)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--memory %llu: below the minimum of %d MiB",
				     (unsigned long long)cfg->memory_mib, VM_MIN_MEMORY_MIB);
	uint64_t host = host_memory_bytes();
	if (cfg->memory_mib > (UINT64_MAX >> 21) || (host && (cfg->memory_mib << 20) > host))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--memory %llu: more than this host's %llu MiB",
				     (unsigned long long)cfg->memory_mib, (unsigned long long)(host >> 20));
	if (cfg->ncpus < 1)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--cpus %d: a VM needs at least one vCPU", cfg->ncpus);

	int r = kvm_open(err);
	if (r < 0)
		return r;
	vm->kvm_fd = r;
	int max = kvm_max_vcpus(vm->kvm_fd);
	if (max > 254) /* APIC IDs 0..n-1 plus the IOAPIC's ID must fit in 8 bits for the MP table */
		max = 254;
	if (cfg->ncpus > max)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--cpus %d: more than the %d vCPUs KVM allows here",
				     cfg->ncpus, max);
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
	r = guest_mem_init(&vm->mem, cfg->memory_mib << 20, err);
	if (r < 0)
		return r;
	for (int i = 0; i < vm->mem.nregions; i++) {
		struct kvm_userspace_memory_region reg = {
			.slot = (uint32_t)i,
			.guest_phys_addr = vm->mem.regions[i].gpa,
			.memory_size = vm->mem.regions[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)vm->mem.regions[i].host,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &reg) < 0)
			return cap_errf(err, errno, "KVM_SET_USER_MEMORY_REGION (slot %d)", i);
	}

	cap_debug("start: guest memory registered at %.2f CPU-ms", vm_process_cpu_ms());
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return cap_errf(err, errno, "eventfd");
	r = evloop_init(&vm->io);
	if (r < 0)
		return cap_errf(err, -r, "I/O event loop");
	vm->state = VM_CREATED;
	return 0;
}

int vm_add_device(struct vm *vm, const char *name, void *opaque, void (*destroy)(void *))
{
	if (vm->ndevices >= (int)(sizeof(vm->devices) / sizeof(vm->devices[0])))
		return -ENOSPC;
	vm->devices[vm->ndevices++] = (struct vm_device){ name, opaque, destroy };
	return 0;
}

int vm_append_cmdline(struct vm *vm, const char *fmt, ...)
{
	size_t used = strlen(vm->cmdline_extra);
	va_list ap;
	if (used && used + 1 < sizeof(vm->cmdline_extra))
		vm->cmdline_extra[used++] = ' ';
	va_start(ap, fmt);
	int n = vsnprintf(vm->cmdline_extra + used, sizeof(vm->cmdline_extra) - used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(vm->cmdline_extra) - used) {
		vm->cmdline_extra[used ? used - 1 : 0] = 0;
		return -ENOSPC;
	}
	return 0;
}

uint64_t vm_alloc_mmio(struct vm *vm, uint64_t size)
{
	size = (size + 0xfff) & ~0xfffULL;
	if (vm->next_mmio + size > IOAPIC_ADDR)
		return 0;
	uint64_t a = vm->next_mmio;
	vm->next_mmio += size;
	return a;
}

int vm_add_virtio_mmio(struct vm *vm, uint64_t addr, uint32_t size, uint32_t gsi)
{
	if (vm->nvirtio_mmio >= ACPI_MAX_MMIO_DEVICES)
		return -ENOSPC;
	vm->virtio_mmio[vm->nvirtio_mmio++] = (struct acpi_mmio_device){ addr, size, gsi };
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

int vm_alloc_irq(struct vm *vm)
{
	/* Skip 8 (RTC), 9 (ACPI SCI) and 12 (PS/2 mouse): guests expect those to be theirs. */
	while (vm->next_irq == 8 || vm->next_irq == 9 || vm->next_irq == 12)
		vm->next_irq++;
	if (vm->next_irq > 23)
		return -ENOSPC;
	return vm->next_irq++;
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int vm_irqfd(struct vm *vm, int efd, uint32_t gsi)
{
	struct kvm_irqfd f = { .fd = (uint32_t)efd, .gsi = gsi };
	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, bool pio, int efd, bool match, uint64_t datamatch)
{
	struct kvm_ioeventfd e = {
		.addr = addr, .len = len, .fd = efd, .datamatch = datamatch,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (match ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0),
	};
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason why)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->stop_reason == VM_STOP_NONE)
		vm->stop_reason = why;
	pthread_mutex_unlock(&vm->lock);
	efd_signal(vm->stop_fd);
}

void vm_fault(struct vm *vm, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&vm->lock);
	if (vm->stop_reason == VM_STOP_NONE && !vm->fault[0]) {
		va_start(ap, fmt);
		vsnprintf(vm->fault, sizeof(vm->fault), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&vm->lock);
	vm_request_stop(vm, VM_STOP_FAULT);
}

int vm_boot(struct vm *vm, const struct vm_config *cfg, cap_err *err)
{
	struct kvm_cpuid2 *cpuid = NULL;
	struct boot_info bi;
	char *cmdline = NULL;
	int r;

	/* Command line: the user's, then what devices asked for, then host workarounds. */
	const char *user = cfg->cmdline ? cfg->cmdline : "console=ttyS0";
	bool acpi_off = cmdline_has_word(user, "acpi=off");
	if (acpi_off) {
		/* Without ACPI the guest learns of virtio-mmio devices from its command line
		 * (a kernel with VIRTIO_MMIO_CMDLINE_DEVICES). */
		for (int i = 0; i < vm->nvirtio_mmio; i++) {
			r = vm_append_cmdline(vm, "virtio_mmio.device=%uK@0x%llx:%u", vm->virtio_mmio[i].size >> 10,
					      (unsigned long long)vm->virtio_mmio[i].addr, vm->virtio_mmio[i].gsi);
			if (r < 0)
				return cap_errf(err, -r, "kernel command line: too many devices");
		}
	}
	size_t cap = strlen(user) + strlen(vm->cmdline_extra) + 64;
	cmdline = malloc(cap);
	if (!cmdline)
		return cap_errf(err, ENOMEM, "kernel command line");
	snprintf(cmdline, cap, "%s%s%s", user, vm->cmdline_extra[0] ? " " : "", vm->cmdline_extra);
	if (vm->kvm_pvm_host && !strstr(cmdline, "noxsave"))
		strcat(cmdline, " noxsave"); /* kvm_pvm's emulator cannot execute xrstor */

	struct boot_config bc = {
		.kernel_path = cfg->kernel,
		.initrd_path = cfg->initrd,
		.cmdline = cmdline,
		.ncpus = vm->ncpus,
		.guest_decompress = cfg->guest_decompress,
		.pvh = cfg->pvh,
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
		r = test_exit_create(vm, err);
		if (r < 0)
			goto out;
	} else if (vm->kvm_pvm_host) {
		cap_warn("this host's KVM is kvm_pvm (nested): guest ring 0 is emulated and a stock Linux kernel stops "
			 "early (its int3 self-test); real kernels need hardware KVM or the nested harness (tests/vm/linux)");
	}

	cpuid = kvm_supported_cpuid(vm->kvm_fd, err);
	if (!cpuid) {
		r = err->errnum ? -err->errnum : -EIO;
		goto out;
	}
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
	for (int i = 0; i < vm->ncpus; i++) {
		r = vcpu_create(&vm->vcpus[i], vm, i, cpuid, &pol, err);
		if (r < 0)
			goto out;
		/* Linux starts its APs itself (INIT/SIPI); a test guest gets every vCPU at its entry. */
		if (i == 0 || vm->test_guest) {
			r = vcpu_setup_boot(&vm->vcpus[i], &bi, err);
			if (r < 0)
				goto out;
		}
	}

	cap_debug("start: vCPUs set up at %.2f CPU-ms", vm_process_cpu_ms());
	vcpu_install_kick_handler();
	r = evloop_start_thread(&vm->io, "capsule-io");
	if (r < 0) {
		r = cap_errf(err, -r, "I/O thread");
		goto out;
	}
	vm->io_started = true;
	vm->state = VM_RUNNING;
	vm->t_vm_start_ns = vm_now_ns();
	for (int i = 0; i < vm->ncpus; i++) {
		r = vcpu_start(&vm->vcpus[i], err);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	free(cpuid);
	free(cmdline);
	return r;
}

void vm_destroy(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	__atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_RELEASE); /* vCPU threads read it unlocked */
	pthread_mutex_unlock(&vm->lock);
	if (vm->vcpus) {
		for (int i = 0; i < vm->ncpus; i++)
			vcpu_kick(&vm->vcpus[i]);
		for (int i = 0; i < vm->ncpus; i++)
			vcpu_join(&vm->vcpus[i]);
	}
	if (vm->io.epfd >= 0)
		evloop_free(&vm->io);
	for (int i = vm->ndevices - 1; i >= 0; i--)
		if (vm->devices[i].destroy)
			vm->devices[i].destroy(vm->devices[i].opaque);
	vm->ndevices = 0;
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
	pthread_mutex_destroy(&vm->lock);
}

int vm_exit_code(const struct vm *vm)
{
	bool panicked = atomic_load(&((struct vm *)vm)->panic_seen);
	switch (vm->stop_reason) {
	case VM_STOP_POWEROFF:
	case VM_STOP_REBOOT:
		return panicked ? CAP_EXIT_GUEST_PANIC : CAP_EXIT_OK;
	case VM_STOP_PANIC:
		return CAP_EXIT_GUEST_PANIC;
	case VM_STOP_FAULT:
		return panicked ? CAP_EXIT_GUEST_PANIC : CAP_EXIT_GUEST_FAULT;
	case VM_STOP_TEST_EXIT:
		return vm->test_exit_status;
	case VM_STOP_CONSOLE:
		return CAP_EXIT_OK;
	case VM_STOP_SIGNAL:
	case VM_STOP_NONE:
		return CAP_EXIT_ERROR;
	}
	return CAP_EXIT_ERROR;
}
