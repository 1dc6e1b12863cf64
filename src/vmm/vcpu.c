#include "vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "boot/boot.h"
#include "boot/layout.h"
#include "cpuid.h"
#include "sandbox/seccomp.h"
#include "vm.h"

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

/* LAPIC register offsets and LVT delivery modes (SDM vol. 3, 10.5.1). */
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

/* The kvm_run of the vCPU this thread runs. The kick handler sets immediate_exit there, so a
 * kick that lands between the thread's state check and its KVM_RUN still makes KVM_RUN return
 * at once instead of being lost. */
static __thread struct kvm_run *this_run;

static void kick_handler(int sig)
{
	(void)sig;
	if (this_run)
		this_run->immediate_exit = 1;
}

void vcpu_install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL); /* no SA_RESTART: KVM_RUN must return EINTR */
}

static uint32_t lapic_get(const struct kvm_lapic_state *s, int reg)
{
	uint32_t v;
	memcpy(&v, &s->regs[reg], 4);
	return v;
}

static void lapic_set(struct kvm_lapic_state *s, int reg, uint32_t v)
{
	memcpy(&s->regs[reg], &v, 4);
}

/* Like a BIOS would: LINT0 = ExtINT (the PIC's output), LINT1 = NMI. */
static int setup_lint(struct vcpu *v)
{
	struct kvm_lapic_state s;
	if (ioctl(v->fd, KVM_GET_LAPIC, &s) < 0)
		return -errno;
	lapic_set(&s, APIC_LVT0, (lapic_get(&s, APIC_LVT0) & ~0x700u) | (APIC_MODE_EXTINT << 8));
	lapic_set(&s, APIC_LVT1, (lapic_get(&s, APIC_LVT1) & ~0x700u) | (APIC_MODE_NMI << 8));
	if (ioctl(v->fd, KVM_SET_LAPIC, &s) < 0)
		return -errno;
	return 0;
}

int vcpu_create(struct vcpu *v, struct vm *vm, int index, const struct kvm_cpuid2 *base,
		const struct cpuid_policy *pol, cap_err *err)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->index = index;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
	if (v->fd < 0)
		return cap_errf(err, errno, "vCPU %d: KVM_CREATE_VCPU", index);
	v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return cap_errf(err, errno, "vCPU %d: mapping kvm_run", index);
	}

	struct kvm_cpuid2 *c = cpuid_for_vcpu(base, index, pol);
	if (!c)
		return cap_errf(err, ENOMEM, "vCPU %d: CPUID", index);
	int r = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0)
		return cap_errf(err, errno, "vCPU %d: KVM_SET_CPUID2", index);

	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return cap_errf(err, errno, "vCPU %d: KVM_SET_FPU", index);
	r = setup_lint(v);
	if (r < 0)
		return cap_errf(err, -r, "vCPU %d: LAPIC LINT setup", index);
	return 0;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int l, int db)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
		.dpl = 0, .db = (uint8_t)db, .s = 1, .l = (uint8_t)l, .g = 1,
	};
}

int vcpu_setup_boot(struct vcpu *v, const struct boot_info *bi, cap_err *err)
{
	struct kvm_sregs sr;
	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return cap_errf(err, errno, "vCPU %d: KVM_GET_SREGS", v->index);

	bool pvh = bi->kind == BOOT_ENTRY_PVH;
	sr.gdt.base = BOOT_GDT_ADDR;
	sr.gdt.limit = 4 * 8 - 1;
	sr.idt.base = BOOT_IDT_ADDR;
	sr.idt.limit = 0;
	set_seg(&sr.cs, BOOT_CS_SELECTOR, 0xb, pvh ? 0 : 1, pvh ? 1 : 0);
	set_seg(&sr.ds, BOOT_DS_SELECTOR, 0x3, 0, 1);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	sr.ldt = (struct kvm_segment){ .limit = 0xffff, .type = 0x2, .present = 1 };
	if (pvh) {
		sr.cr0 = CR0_PE | CR0_ET | CR0_NE;
		sr.cr4 = 0;
		sr.efer = 0;
	} else {
		sr.cr3 = BOOT_PML4_ADDR;
		sr.cr4 |= CR4_PAE;
		sr.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
		sr.efer |= EFER_LME | EFER_LMA;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0)
		return cap_errf(err, errno, "vCPU %d: KVM_SET_SREGS", v->index);

	struct kvm_regs regs = {
		.rflags = 0x2,
		.rip = bi->entry,
		.rsp = BOOT_STACK_ADDR,
		.rbp = BOOT_STACK_ADDR,
	};
	if (pvh) {
		regs.rbx = bi->boot_params;
	} else {
		regs.rsi = bi->boot_params;
		regs.rdi = (uint64_t)v->index;
		regs.rdx = (uint64_t)v->vm->ncpus;
	}
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return cap_errf(err, errno, "vCPU %d: KVM_SET_REGS", v->index);

	/* An AP that a test guest starts at the entry must be runnable, not waiting for SIPI. */
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		return cap_errf(err, errno, "vCPU %d: KVM_SET_MP_STATE", v->index);
	return 0;
}


static const char *exit_name(uint32_t r)
{
	switch (r) {
	case KVM_EXIT_UNKNOWN: return "unknown";
	case KVM_EXIT_EXCEPTION: return "exception";
	case KVM_EXIT_HLT: return "hlt";
	case KVM_EXIT_FAIL_ENTRY: return "failed entry";
	case KVM_EXIT_INTERNAL_ERROR: return "internal error";
	default: return "unexpected";
	}
}

static void count_exit(struct vcpu *v, enum vcpu_exit_kind k)
{
	__atomic_fetch_add(&v->exits[k], 1, __ATOMIC_RELAXED);
}

static enum vcpu_exit_kind exit_kind(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return VCPU_EXIT_IO;
	case KVM_EXIT_MMIO: return VCPU_EXIT_MMIO;
	case KVM_EXIT_HLT: return VCPU_EXIT_HLT;
	case KVM_EXIT_SYSTEM_EVENT: return VCPU_EXIT_SYSTEM_EVENT;
	case KVM_EXIT_SHUTDOWN: return VCPU_EXIT_SHUTDOWN;
	case KVM_EXIT_INTERNAL_ERROR: return VCPU_EXIT_INTERNAL_ERROR;
	case KVM_EXIT_FAIL_ENTRY: return VCPU_EXIT_FAIL_ENTRY;
	default: return VCPU_EXIT_OTHER;
	}
}

/* Returns false when the loop must end. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;

	count_exit(v, exit_kind(run->exit_reason));
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		if (!vm_pio_exit(vm, run->io.port, run->io.size, run->io.count, run->io.direction == KVM_EXIT_IO_OUT,
				 (uint8_t *)run + run->io.data_offset))
			cap_debug("vCPU %d: unclaimed port %s 0x%x", v->index,
				  run->io.direction == KVM_EXIT_IO_OUT ? "write" : "read", run->io.port);
		return true;
	case KVM_EXIT_MMIO:
		if (!vm_mmio_exit(vm, run->mmio.phys_addr, run->mmio.data, run->mmio.len, run->mmio.is_write))
			cap_debug("vCPU %d: unclaimed MMIO %s 0x%llx", v->index, run->mmio.is_write ? "write" : "read",
				  (unsigned long long)run->mmio.phys_addr);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_stop(vm, VM_STOP_POWEROFF);
			break;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_stop(vm, VM_STOP_REBOOT);
			break;
		case KVM_SYSTEM_EVENT_CRASH:
			vm_request_stop(vm, VM_STOP_PANIC);
			break;
		default:
			vm_fault(vm, "vCPU %d: unknown system event %u", v->index, run->system_event.type);
		}
		return false;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault. After a panic it is the reboot; otherwise the guest crashed. */
		vm_fault(vm, "vCPU %d: triple fault (the guest reset itself unexpectedly)", v->index);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_fault(vm, "vCPU %d: KVM internal error, suberror %u%s", v->index, run->internal.suberror,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
				 ? " (KVM could not emulate an instruction; on kvm_pvm see docs/kvm-pvm.md)" : "");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_fault(vm, "vCPU %d: VM entry failed, hardware reason 0x%llx", v->index,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	default:
		vm_fault(vm, "vCPU %d: unhandled KVM exit %u (%s)", v->index, run->exit_reason,
			 exit_name(run->exit_reason));
		return false;
	}
}

/* The pause point: KVM_RUN has returned and its exit was handled. Waits under vm->pause_lock
 * until the pause is over or the VM stops. */
static void park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	pthread_mutex_lock(&vm->pause_lock);
	v->parked = true;
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm->pause_requested && vm_get_state(vm) != VM_STOPPED)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	v->parked = false;
	pthread_mutex_unlock(&vm->pause_lock);
}

static bool pause_requested(struct vm *vm)
{
	return __atomic_load_n(&vm->pause_requested, __ATOMIC_ACQUIRE);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	sigset_t set;

	char name[16];
	snprintf(name, sizeof(name), "vcpu%d", v->index);
	pthread_setname_np(pthread_self(), name); /* before its filter: the audit record names it */

	this_run = v->run;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	/* The filter goes on before the first KVM_RUN: from here on the guest drives this thread. */
	cap_err serr = { 0 };
	if (vmm_seccomp_enter("vcpu", &serr) < 0) {
		vm_fault(vm, "vCPU %d: %s", v->index, serr.msg);
		goto out;
	}

	if (v->index == 0 && !atomic_exchange(&vm->first_entry_done, 1)) {
		vm->start_cpu_ms = vm_process_cpu_ms();
		clock_gettime(CLOCK_REALTIME, &vm->first_entry);
	}
	bool io_pending = false; /* the last exit was port I/O or MMIO that KVM has not completed */
	for (;;) {
		if (vm_get_state(vm) == VM_STOPPED)
			break;
		if (pause_requested(vm)) {
			/* KVM finishes an emulated access (e.g. writes a read's data to the register) only
			 * on the next KVM_RUN; one with immediate_exit does just that and returns EINTR, so a
			 * parked vCPU's registers are consistent. */
			if (io_pending) {
				v->run->immediate_exit = 1;
				ioctl(v->fd, KVM_RUN, 0);
				v->run->immediate_exit = 0;
				io_pending = false;
			}
			park(v);
			continue;
		}
		io_pending = false;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				count_exit(v, VCPU_EXIT_INTERRUPTED);
				v->run->immediate_exit = 0;
				continue;
			}
			vm_fault(vm, "vCPU %d: KVM_RUN: %s", v->index, strerror(errno));
			break;
		}
		if (!handle_exit(v))
			break;
		io_pending = v->run->exit_reason == KVM_EXIT_IO || v->run->exit_reason == KVM_EXIT_MMIO;
	}
out:
	pthread_mutex_lock(&vm->pause_lock);
	v->exited = true;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	this_run = NULL;
	return NULL;
}

int vcpu_start(struct vcpu *v, cap_err *err)
{
	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (r)
		return cap_errf(err, r, "vCPU %d: thread", v->index);
	v->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->thread_started)
		return;
	if (v->run)
		v->run->immediate_exit = 1;
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (!v->thread_started)
		return;
	pthread_join(v->thread, NULL);
	v->thread_started = false;
}

void vcpu_free(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->vm->run_size);
	if (v->fd > 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}
