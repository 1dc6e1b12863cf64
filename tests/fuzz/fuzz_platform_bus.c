// fuzz-sources: src/vmm/devices/platform.c src/vmm/devices/serial.c src/vmm/devices/legacy.c src/vmm/devices/acpi_pm.c src/vmm/vm.c src/vmm/device.c src/vmm/bus.c src/vmm/vmstate.c src/lib/log.c src/lib/error.c src/lib/efd.c
// fuzz-seeds: tests/fuzz/seeds_platform_bus.c
/* libFuzzer target: the platform devices (16550 serial, i8042, test-exit port, boot timer,
 * ACPI PM registers) on a KVM-less VM, created by the registry's own platform_devices_create
 * as a real VM creates them, and reached only through the vCPU's exit dispatch
 * (vm_pio_exit / vm_mmio_exit) with the accesses the input spells (fuzz_platform.h).
 *
 * Besides the sanitizers it checks what a guest relies on:
 *  - an address is claimed exactly when it lies in a device's window, and an unclaimed read
 *    returns all-ones;
 *  - the serial LSR always says the transmitter is empty, and data-ready exactly when the
 *    receive FIFO holds a byte; in loopback the MSR follows the MCR; PM1_CNT always reads SCI_EN;
 *  - once the receive FIFO has room again, the console's paused input source has been told;
 *  - every state a guest can drive the devices into can be saved and restored into another
 *    VM, which then saves the same bytes (a snapshot of any running guest works);
 *  - a reset brings each resettable device back to the state it was created in. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "fuzz_platform.h"
#include "../../src/lib/efd.h"
#include "../../src/lib/log.h"
#include "../../src/vmm/devices/legacy.h"
#include "../../src/vmm/devices/platform.h"
#include "../../src/vmm/devices/serial.h"
#include "../../src/vmm/vm.h"

#define SERIAL_FIFO 1024
#define MAX_REP 256

struct fz_vm {
	struct vm vm;
	struct vmstate_out fresh;	/* every device's section right after creation */
	bool input_paused;		/* the console's input source, as console.c runs it */
};

static struct fz_vm vms[2];		/* [0] a plain kernel, [1] a Capsule test guest */
static struct fz_vm shadow_vm;		/* what the round trip restores into */
#define shadow shadow_vm.vm

static __attribute__((noreturn)) void fail(const char *what)
{
	fprintf(stderr, "fuzz_platform_bus: %s\n", what);
	abort();
}

/* console.c stops reading the host's input while the receive FIFO is full and resumes when
 * the device says it drained. */
static void drained(void *opaque)
{
	((struct fz_vm *)opaque)->input_paused = false;
}

static void make_vm(struct fz_vm *f, bool test_guest)
{
	cap_err err = { 0 };
	struct vm *vm = &f->vm;
	vm_init(vm);
	vm->cfg.console = VM_CONSOLE_NONE; /* guest output discarded; the panic watch still runs */
	vm->boot_timer = true;
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0 || platform_devices_create(vm, &err) < 0)
		fail("cannot create the platform devices");
	serial_set_drain_notify(vm->serial, drained, f);
	if (test_guest)
		test_exit_arm(vm);
}

static void save_all(struct vm *vm, struct vmstate_out *out)
{
	cap_err err = { 0 };
	vmstate_out_init(out);
	if (vm_devices_save(&vm->devices, out, &err) < 0)
		fail("a device cannot save its state");
}

static void init_once(void)
{
	if (shadow.devices.n)
		return;
	cap_log_set_level(CAP_LOG_QUIET);
	for (int i = 0; i < 2; i++) {
		make_vm(&vms[i], i == 1);
		save_all(&vms[i].vm, &vms[i].fresh);
	}
	make_vm(&shadow_vm, false);
}

/* The section of device d inside a whole-VM save. */
static int section(const struct vmstate_out *all, const char *name, const uint8_t **p, size_t *len)
{
	struct vmstate_in in;
	vmstate_in_init(&in, all->buf, all->len);
	if (vmstate_open(&in, name, NULL) < 0)
		return -ENOENT;
	*p = in.body;
	*len = in.body_len;
	return 0;
}

static void check_reset(struct fz_vm *f)
{
	struct vmstate_out now;
	save_all(&f->vm, &now);
	for (int i = 0; i < f->vm.devices.n; i++) {
		struct vm_device *d = &f->vm.devices.dev[i];
		const uint8_t *a, *b;
		size_t alen, blen;
		if (!d->ops->reset)
			continue; /* the boot timer and test-exit port keep their flag across a reset */
		if (section(&now, d->name, &a, &alen) < 0 || section(&f->fresh, d->name, &b, &blen) < 0)
			fail("a device's section is missing");
		if (alen != blen || memcmp(a, b, alen)) {
			fprintf(stderr, "device %s after reset differs from a new one\n", d->name);
			fail("reset is incomplete");
		}
	}
	vmstate_out_free(&now);
}

static void roundtrip(struct vm *vm)
{
	struct vmstate_out a, b;
	struct vmstate_in in;
	cap_err err = { 0 };
	save_all(vm, &a);
	vmstate_in_init(&in, a.buf, a.len);
	if (vm_devices_restore(&shadow.devices, &in, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		fail("a state the guest reached cannot be restored");
	}
	save_all(&shadow, &b);
	if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
		fail("the restored devices save different bytes");
	vmstate_out_free(&a);
	vmstate_out_free(&b);
}

static bool in_window(uint64_t addr, bool mmio)
{
	if (mmio)
		return addr >= MMIO_BOOT_TIMER_ADDR && addr < MMIO_BOOT_TIMER_ADDR + 0x1000;
	return (addr >= PORT_COM1 && addr < PORT_COM1 + 8) || (addr >= PORT_I8042_DATA && addr <= PORT_I8042_CMD) ||
	       (addr >= ACPI_PM_PORT && addr < ACPI_PM_PORT + ACPI_PM_LEN) ||
	       (addr >= PORT_TEST_EXIT && addr < PORT_TEST_EXIT + 4);
}

/* MCR as the guest reads it back (through the bus, like everything here). */
static uint8_t mcr_of(struct vm *vm)
{
	uint8_t v = 0;
	bus_access(&vm->pio, PORT_COM1 + 4, &v, 1, false);
	return v;
}

/* What the guest can always rely on, checked after each of its reads. */
static void check_read(struct vm *vm, uint64_t addr, bool mmio, uint32_t size, const uint8_t *data)
{
	if (mmio || size != 1)
		return;
	if (addr == PORT_COM1 + 5) {
		bool ready = serial_input_room(vm->serial) < SERIAL_FIFO;
		if ((data[0] & 0x60) != 0x60 || (bool)(data[0] & 1) != ready)
			fail("serial LSR disagrees with the FIFO");
	}
	if (addr == PORT_COM1 + 6 && (mcr_of(vm) & 0x10)) {
		/* Loopback: CTS <- RTS, DSR <- DTR, RI <- OUT1, DCD <- OUT2 (16550A data sheet). */
		uint8_t mcr = mcr_of(vm);
		uint8_t want = (uint8_t)((mcr & 2 ? 0x10 : 0) | (mcr & 1 ? 0x20 : 0) | (mcr & 4 ? 0x40 : 0) |
					 (mcr & 8 ? 0x80 : 0));
		if ((data[0] & 0xf0) != want)
			fail("serial MSR in loopback does not follow MCR");
	}
	if (addr == ACPI_PM_PORT + ACPI_PM1_CNT_OFF && !(data[0] & ACPI_PM1_CNT_SCI_EN))
		fail("PM1_CNT reads without SCI_EN");
}

struct cursor {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct cursor *c)
{
	if (!c->n)
		return 0;
	c->n--;
	return *c->p++;
}

static uint64_t next_le(struct cursor *c, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)next(c) << (8 * i);
	return v;
}

static void host_event(struct fz_vm *f, struct cursor *c)
{
	uint8_t buf[256];
	switch (next(c) % 3) {
	case FP_HOST_INPUT: {
		size_t n = next(c);
		for (size_t i = 0; i < n; i++)
			buf[i] = next(c);
		serial_input(f->vm.serial, buf, n);
		if (serial_input_room(f->vm.serial) == 0)
			f->input_paused = true;
		break;
	}
	case FP_HOST_RESET:
		vm_devices_reset(&f->vm.devices);
		check_reset(f);
		break;
	case FP_HOST_ROUNDTRIP:
		roundtrip(&f->vm);
		break;
	}
}

/* One exit: claimed exactly inside a window, all-ones when unclaimed, checked when read. */
static void one_exit(struct vm *vm, uint64_t addr, bool mmio, uint32_t size, uint32_t count, bool is_write,
		     uint8_t *data)
{
	bool claimed = mmio ? vm_mmio_exit(vm, addr, data, size, is_write)
			    : vm_pio_exit(vm, (uint16_t)addr, size, count, is_write, data);
	if (claimed != in_window(addr, mmio))
		fail(claimed ? "an address outside every window is claimed" : "a device window is unclaimed");
	if (is_write)
		return;
	for (uint32_t k = 0; !claimed && k < count * size; k++)
		if (data[k] != 0xff)
			fail("an unclaimed read is not all-ones");
	check_read(vm, addr, mmio, size, data + (size_t)(count - 1) * size);
}

static void guest_access(struct vm *vm, uint8_t op, struct cursor *c)
{
	static uint8_t data[MAX_REP * 8];
	uint32_t size = 1u << (op & 3);
	bool is_write = op & FP_WRITE, mmio = op & FP_MMIO;
	int mode = (op >> 4) & 7;
	uint64_t addr;

	if (mode <= FP_AT_BOOT_TIMER)
		addr = fp_window_base[mode] + (uint64_t)(int64_t)(int8_t)next(c);
	else
		addr = next_le(c, mode == FP_AT_ADDR64 ? 8 : mmio ? 4 : 2);
	if (!mmio)
		addr &= 0xffff; /* a port number */
	uint32_t count = op & FP_REP ? (uint32_t)next(c) + 1 : 1;
	memset(data, 0, (size_t)count * size);
	if (is_write) {
		for (uint32_t i = 0; i < size; i++)
			data[i] = next(c);
		for (uint32_t i = 1; i < count; i++)
			memcpy(data + (size_t)i * size, data, size);
	}

	/* Port string I/O is one exit of count elements; MMIO `rep movs` is one exit per element. */
	if (!mmio)
		one_exit(vm, addr, false, size, count, is_write, data);
	else
		for (uint32_t i = 0; i < count; i++)
			one_exit(vm, addr + (uint64_t)i * size, true, size, 1, is_write, data + (size_t)i * size);
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	init_once();
	if (n < 1)
		return 0;
	struct cursor c = { p, n };
	uint8_t flags = next(&c);
	struct fz_vm *f = &vms[flags & FP_FLAG_TEST_GUEST];
	struct vm *vm = &f->vm;

	/* Each input starts on a VM just reset: the devices and the stop state of the last one gone. */
	vm_devices_reset(&vm->devices);
	if (flags & FP_FLAG_CHECK_RESET)
		check_reset(f);
	vm->stop_reason = VM_STOP_NONE;
	vm->test_exit_status = 0;
	atomic_store(&vm->panic_seen, 0);
	efd_drain(vm->stop_fd);

	f->input_paused = false;

	while (c.n) {
		uint8_t op = next(&c);
		if (((op >> 4) & 7) == FP_HOST)
			host_event(f, &c);
		else
			guest_access(vm, op, &c);
		if (f->input_paused && serial_input_room(vm->serial) > 0)
			fail("the receive FIFO has room but the console input stays paused");
	}
	if (flags & FP_FLAG_ROUNDTRIP)
		roundtrip(vm);
	return 0;
}
