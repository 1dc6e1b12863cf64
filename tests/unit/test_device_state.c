/* save/restore of the devices that support it: a device driven into a non-default state through
 * its ports is saved, restored into a fresh device on another (fake, KVM-less) VM, and the copy
 * behaves the same and saves the same bytes. A hostile section is refused and changes nothing.
 * reset brings a device back to its power-on state. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "../../src/lib/log.h"
#include "../../src/vmm/devices/acpi_pm.h"
#include "../../src/vmm/devices/legacy.h"
#include "../../src/vmm/devices/serial.h"
#include "../../src/vmm/vm.h"

static void fake_vm(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->lock, NULL);
	vm->vm_fd = vm->stop_fd = -1; /* no KVM: interrupt lines and stop events go nowhere */
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
}

static void fake_vm_free(struct vm *vm)
{
	vm_devices_destroy(&vm->devices);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	pthread_mutex_destroy(&vm->lock);
}

/* Every legacy device, as machine.c creates them. */
static void make_all(struct vm *vm)
{
	cap_err err = { 0 };
	fake_vm(vm);
	CHECK_EQ(serial_create(vm, -1, &vm->serial, &err), 0);
	CHECK_EQ(i8042_create(vm, &err), 0);
	CHECK_EQ(boot_timer_create(vm, &err), 0);
	CHECK_EQ(acpi_pm_register(vm, &err), 0);
	CHECK_EQ(test_exit_create(vm, &err), 0);
}

static void outb(struct vm *vm, uint16_t port, uint8_t v)
{
	CHECK(bus_access(&vm->pio, port, &v, 1, true));
}

static uint8_t inb(struct vm *vm, uint16_t port)
{
	uint8_t v = 0;
	CHECK(bus_access(&vm->pio, port, &v, 1, false));
	return v;
}

/* Device name's section from vm, as a fresh buffer. */
static void save_one(struct vm *vm, const char *name, struct vmstate_out *out)
{
	vmstate_out_init(out);
	struct vm_device *d = vm_device_find(&vm->devices, name);
	CHECK(d != NULL);
	if (d)
		CHECK_EQ(vm_device_save(d, out), 0);
}

static int restore_one(struct vm *vm, const char *name, const struct vmstate_out *from)
{
	struct vmstate_in in;
	vmstate_in_init(&in, from->buf, from->len);
	struct vm_device *d = vm_device_find(&vm->devices, name);
	return d ? vm_device_restore(d, &in) : -ENOENT;
}

static bool same(const struct vmstate_out *a, const struct vmstate_out *b)
{
	return a->len == b->len && !memcmp(a->buf, b->buf, a->len);
}

static void test_serial(void)
{
	static struct vm a, b;
	struct vmstate_out sa, sb, fresh;
	make_all(&a);
	make_all(&b);
	save_one(&b, "serial", &fresh);
	outb(&a, 0x3fb, 0x83);	/* LCR: DLAB, 8 bits */
	outb(&a, 0x3f8, 0x0c);	/* DLL */
	outb(&a, 0x3f9, 0x01);	/* DLM */
	outb(&a, 0x3fb, 0x03);
	outb(&a, 0x3f9, 0x05);	/* IER: RDI | RLSI */
	outb(&a, 0x3fa, 0x01);	/* FCR: FIFO on */
	outb(&a, 0x3fc, 0x0b);	/* MCR */
	outb(&a, 0x3ff, 0x5a);	/* SCR */
	for (const char *p = "Kernel pan"; *p; p++)
		outb(&a, 0x3f8, (uint8_t)*p); /* part of the panic line: the matcher's progress is state */
	serial_input(a.serial, (const uint8_t *)"abc", 3);
	CHECK_EQ(inb(&a, 0x3f8), 'a');	/* the FIFO now starts mid-ring */
	serial_input(a.serial, (const uint8_t *)"d", 1);
	save_one(&a, "serial", &sa);
	CHECK(!same(&sa, &fresh));
	CHECK_EQ(restore_one(&b, "serial", &sa), 0);
	save_one(&b, "serial", &sb);
	CHECK(same(&sa, &sb));
	/* The copy behaves like the original. */
	CHECK_EQ(inb(&b, 0x3f9), 0x05);
	CHECK_EQ(inb(&b, 0x3fb), 0x03);
	CHECK_EQ(inb(&b, 0x3fc), 0x0b);
	CHECK_EQ(inb(&b, 0x3ff), 0x5a);
	CHECK_EQ(inb(&b, 0x3fa), 0xc4);	/* IIR: FIFO enabled, received data pending */
	CHECK_EQ(inb(&b, 0x3f8), 'b');
	CHECK_EQ(inb(&b, 0x3f8), 'c');
	CHECK_EQ(inb(&b, 0x3f8), 'd');
	CHECK_EQ(inb(&b, 0x3fd) & 1, 0);	/* LSR: no more data */
	for (const char *p = "ic - not syncing"; *p; p++)
		outb(&b, 0x3f8, (uint8_t)*p);
	CHECK_EQ(atomic_load(&b.panic_seen), 1); /* the restored matcher completed the line */
	outb(&b, 0x3fb, 0x80);
	CHECK_EQ(inb(&b, 0x3f8), 0x0c);
	CHECK_EQ(inb(&b, 0x3f9), 0x01);

	/* reset: power-on registers, empty FIFO. */
	vm_devices_reset(&b.devices);
	CHECK_EQ(inb(&b, 0x3fb), 0);
	CHECK_EQ(inb(&b, 0x3f9), 0);
	CHECK_EQ(inb(&b, 0x3fc), 0x08);
	struct vmstate_out sr;
	save_one(&b, "serial", &sr);
	CHECK(same(&sr, &fresh));

	vmstate_out_free(&sa);
	vmstate_out_free(&sb);
	vmstate_out_free(&sr);
	vmstate_out_free(&fresh);
	fake_vm_free(&a);
	fake_vm_free(&b);
}

/* A section with one field changed to a value no 16550 can hold, or missing one field. */
static void test_serial_hostile(void)
{
	static struct vm b;
	struct vmstate_out bad, before, after;
	make_all(&b);
	save_one(&b, "serial", &before);
	vmstate_out_init(&bad);
	vmstate_begin(&bad, "serial", 1);
	vmstate_put_u8(&bad, "ier", 0xff);	/* only 4 bits exist */
	vmstate_put_u8(&bad, "lcr", 3);
	vmstate_put_u8(&bad, "mcr", 0);
	vmstate_put_u8(&bad, "msr", 0);
	vmstate_put_u8(&bad, "scr", 0);
	vmstate_put_u8(&bad, "fcr", 0);
	vmstate_put_u8(&bad, "dll", 0);
	vmstate_put_u8(&bad, "dlm", 0);
	vmstate_put_bool(&bad, "thri_pending", false);
	vmstate_put_bool(&bad, "irq_level", false);
	vmstate_put_u32(&bad, "panic_match", 0);
	vmstate_put_bytes(&bad, "rx_fifo", "x", 1);
	vmstate_end(&bad);
	CHECK_EQ(restore_one(&b, "serial", &bad), -EINVAL);
	vmstate_out_free(&bad);
	vmstate_out_init(&bad);
	vmstate_begin(&bad, "serial", 1);
	vmstate_put_u8(&bad, "ier", 1);
	vmstate_end(&bad);
	CHECK_EQ(restore_one(&b, "serial", &bad), -ENOENT);
	vmstate_out_free(&bad);
	vmstate_out_init(&bad);
	vmstate_begin(&bad, "serial", 2);	/* from a newer format */
	vmstate_end(&bad);
	CHECK_EQ(restore_one(&b, "serial", &bad), -EPROTO);
	save_one(&b, "serial", &after);
	CHECK(same(&before, &after));
	vmstate_out_free(&bad);
	vmstate_out_free(&before);
	vmstate_out_free(&after);
	fake_vm_free(&b);
}

static void test_i8042(void)
{
	static struct vm a, b;
	struct vmstate_out sa, sb;
	make_all(&a);
	make_all(&b);
	outb(&a, 0x64, 0x20);	/* read CTR: 0x45 queued */
	outb(&a, 0x64, 0xaa);	/* self-test: 0x55 queued */
	outb(&a, 0x64, 0xa7);	/* disable AUX: CTR |= 0x20 */
	outb(&a, 0x64, 0xd4);	/* next data byte goes to AUX: pending */
	save_one(&a, "i8042", &sa);
	CHECK_EQ(restore_one(&b, "i8042", &sa), 0);
	save_one(&b, "i8042", &sb);
	CHECK(same(&sa, &sb));
	CHECK_EQ(inb(&b, 0x64) & 1, 1);	/* output buffer full */
	CHECK_EQ(inb(&b, 0x60), 0x45);
	CHECK_EQ(inb(&b, 0x60), 0x55);
	outb(&b, 0x60, 0x11);		/* the pending AUX command's byte: NAK from no mouse */
	CHECK_EQ(inb(&b, 0x64) & 0x21, 0x21);
	CHECK_EQ(inb(&b, 0x60), 0xfe);
	outb(&b, 0x64, 0x20);
	CHECK_EQ(inb(&b, 0x60), 0x65);	/* the restored CTR */
	vm_devices_reset(&b.devices);
	outb(&b, 0x64, 0x20);
	CHECK_EQ(inb(&b, 0x60), 0x45);
	vmstate_out_free(&sa);
	vmstate_out_free(&sb);
	fake_vm_free(&a);
	fake_vm_free(&b);
}

static void test_acpi_pm(void)
{
	static struct vm a, b;
	struct vmstate_out sa, sb;
	make_all(&a);
	make_all(&b);
	uint8_t en[2] = { 0x20, 0x01 };
	CHECK(bus_access(&a.pio, ACPI_PM_PORT + 2, en, 2, true));
	outb(&a, ACPI_PM_PORT + ACPI_PM1_CNT_OFF + 1, (uint8_t)(3u << 2)); /* SLP_TYP 3, no SLP_EN */
	save_one(&a, "acpi-pm", &sa);
	CHECK_EQ(restore_one(&b, "acpi-pm", &sa), 0);
	save_one(&b, "acpi-pm", &sb);
	CHECK(same(&sa, &sb));
	uint8_t got[2] = { 0 };
	CHECK(bus_access(&b.pio, ACPI_PM_PORT + 2, got, 2, false));
	CHECK(got[0] == 0x20 && got[1] == 0x01);
	CHECK_EQ(inb(&b, ACPI_PM_PORT + ACPI_PM1_CNT_OFF + 1), 3u << 2);
	CHECK_EQ(b.stop_reason, VM_STOP_NONE);
	vm_devices_reset(&b.devices);
	CHECK(bus_access(&b.pio, ACPI_PM_PORT + 2, got, 2, false));
	CHECK(got[0] == 0 && got[1] == 0);
	vmstate_out_free(&sa);
	vmstate_out_free(&sb);
	fake_vm_free(&a);
	fake_vm_free(&b);
}

static void test_test_exit_and_boot_timer(void)
{
	static struct vm a, b, c;
	struct vmstate_out sa, sb, bt;
	make_all(&a);
	make_all(&b);
	make_all(&c);
	CHECK_EQ(inb(&c, 0xf4), 0xff);	/* not armed: like no device at all */
	outb(&c, 0xf4, 1);
	CHECK_EQ(c.stop_reason, VM_STOP_NONE);
	test_exit_arm(&a);
	save_one(&a, "test-exit", &sa);
	CHECK_EQ(restore_one(&b, "test-exit", &sa), 0);
	save_one(&b, "test-exit", &sb);
	CHECK(same(&sa, &sb));
	CHECK_EQ(inb(&b, 0xf4), 0);
	outb(&b, 0xf4, 42);
	CHECK_EQ(b.stop_reason, VM_STOP_TEST_EXIT);
	CHECK_EQ(b.test_exit_status, 42);

	/* The boot timer has reported or not; a restored "reported" stays quiet. */
	vmstate_out_init(&bt);
	vmstate_begin(&bt, "boot-timer", 1);
	vmstate_put_bool(&bt, "reported", true);
	vmstate_end(&bt);
	CHECK_EQ(restore_one(&c, "boot-timer", &bt), 0);
	struct vmstate_out back;
	save_one(&c, "boot-timer", &back);
	CHECK(same(&bt, &back));
	vmstate_out_free(&sa);
	vmstate_out_free(&sb);
	vmstate_out_free(&bt);
	vmstate_out_free(&back);
	fake_vm_free(&a);
	fake_vm_free(&b);
	fake_vm_free(&c);
}

/* The whole registry at once: one section per device, restored by name. */
static void test_all_devices(void)
{
	static struct vm a, b;
	struct vmstate_out sa, sb;
	cap_err err = { 0 };
	make_all(&a);
	make_all(&b);
	outb(&a, 0x3ff, 0x77);
	outb(&a, 0x64, 0xaa);
	test_exit_arm(&a);
	vmstate_out_init(&sa);
	vmstate_out_init(&sb);
	CHECK_EQ(vm_devices_save(&a.devices, &sa, &err), 0);
	struct vmstate_in in;
	vmstate_in_init(&in, sa.buf, sa.len);
	CHECK_EQ(vm_devices_restore(&b.devices, &in, &err), 0);
	CHECK_EQ(vm_devices_save(&b.devices, &sb, &err), 0);
	CHECK(same(&sa, &sb));
	CHECK_EQ(inb(&b, 0x3ff), 0x77);
	/* A stream without one of the devices: restore names it. */
	struct vmstate_out part;
	vmstate_out_init(&part);
	save_one(&a, "serial", &part);
	vmstate_in_init(&in, part.buf, part.len);
	cap_err e2 = { 0 };
	CHECK_EQ(vm_devices_restore(&b.devices, &in, &e2), -ENOENT);
	CHECK(strstr(e2.msg, "device i8042: restoring its state") != NULL);
	vmstate_out_free(&sa);
	vmstate_out_free(&sb);
	vmstate_out_free(&part);
	fake_vm_free(&a);
	fake_vm_free(&b);
}

int main(void)
{
	cap_log_set_level(CAP_LOG_ERROR);
	RUN(test_serial);
	RUN(test_serial_hostile);
	RUN(test_i8042);
	RUN(test_acpi_pm);
	RUN(test_test_exit_and_boot_timer);
	RUN(test_all_devices);
	UNIT_EXIT();
}
