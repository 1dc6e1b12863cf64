#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "../lib/efd.h"
#include "boot/layout.h"

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

/* First GSI handed to devices: 0-4 are PIT, keyboard, cascade, COM2, COM1. */
#define FIRST_DEVICE_IRQ 5

void vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->stop_fd = -1;
	vm->mem.memfd = -1;
	vm->io.epfd = vm->io.wake_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	bus_init(&vm->pio, "port I/O");
	bus_init(&vm->mmio, "MMIO");
	vm->next_mmio = MMIO_VIRTIO_BASE;
	vm->next_irq = FIRST_DEVICE_IRQ;
	vm->state = VM_CREATED;
}

bool vm_pio_exit(struct vm *vm, uint16_t port, uint32_t size, uint32_t count, bool is_write, uint8_t *data)
{
	bool claimed = true;
	for (uint32_t i = 0; i < count; i++, data += size)
		claimed = bus_access(&vm->pio, port, data, size, is_write);
	return claimed;
}

bool vm_mmio_exit(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	if (len > sizeof(((struct kvm_run *)0)->mmio.data))
		return true;
	return bus_access(&vm->mmio, addr, data, len, is_write);
}

int vm_add_device(struct vm *vm, const char *name, const struct vm_device_ops *ops, void *opaque, cap_err *err)
{
	return vm_device_register(&vm->devices, name, ops, opaque, err);
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

enum vm_state vm_get_state(const struct vm *vm)
{
	return __atomic_load_n(&vm->state, __ATOMIC_ACQUIRE);
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
		return CAP_EXIT_CONSOLE_QUIT;
	case VM_STOP_MIGRATED:
		return CAP_EXIT_OK;
	case VM_STOP_SIGNAL:
	case VM_STOP_NONE:
		return CAP_EXIT_ERROR;
	}
	return CAP_EXIT_ERROR;
}
