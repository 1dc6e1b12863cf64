/* The 16550's receive side: a paused input source is resumed whenever the FIFO leaves the full
 * state, by a read, by the FCR "clear receiver" bit (Linux's 8250 startup clears it), by a reset
 * or by a restore; and its modem-status loopback. */
#include <string.h>

#include "unit.h"
#include "../../src/lib/evloop.h"
#include "../../src/vmm/devices/serial.h"
#include "../../src/vmm/vm.h"

static int drained;
static void on_drain(void *opaque)
{
	(void)opaque;
	drained++;
}

static struct serial *make(struct vm *vm)
{
	cap_err err = { 0 };
	struct serial *s = NULL;
	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1; /* interrupt injection fails quietly: no KVM in a unit test */
	bus_init(&vm->pio, "pio");
	CHECK_EQ(serial_create(vm, -1, &s, &err), 0);
	serial_set_drain_notify(s, on_drain, NULL);
	return s;
}

static void fill(struct serial *s)
{
	uint8_t buf[1024];
	memset(buf, 'x', sizeof(buf));
	serial_input(s, buf, sizeof(buf));
	CHECK_EQ(serial_input_room(s), 0u);
}

static void reg(struct vm *vm, uint16_t off, uint8_t v, bool wr, uint8_t *out)
{
	uint8_t d = v;
	CHECK(bus_access(&vm->pio, 0x3f8 + off, &d, 1, wr));
	if (out)
		*out = d;
}

static void test_read_resumes(void)
{
	struct vm vm;
	struct serial *s = make(&vm);
	drained = 0;
	fill(s);
	uint8_t c;
	reg(&vm, 0, 0, false, &c);
	CHECK_EQ(c, 'x');
	CHECK_EQ(drained, 1);
	reg(&vm, 0, 0, false, &c); /* no longer full: no second notification */
	CHECK_EQ(drained, 1);
	vm_devices_destroy(&vm.devices);
	bus_free(&vm.pio);
}

static void test_fifo_clear_resumes(void)
{
	struct vm vm;
	struct serial *s = make(&vm);
	drained = 0;
	fill(s);
	reg(&vm, 2, 0x07, true, NULL); /* FCR: enable, clear RX and TX */
	CHECK_EQ(drained, 1);
	CHECK_EQ(serial_input_room(s), 1024u);
	uint8_t lsr;
	reg(&vm, 5, 0, false, &lsr);
	CHECK_EQ(lsr & 1, 0); /* no data ready after the clear */
	vm_devices_destroy(&vm.devices);
	bus_free(&vm.pio);
}

/* A reset empties a full FIFO: the paused input source must hear of it too. */
static void test_reset_resumes(void)
{
	struct vm vm;
	struct serial *s = make(&vm);
	drained = 0;
	fill(s);
	vm_devices_reset(&vm.devices);
	CHECK_EQ(serial_input_room(s), 1024u);
	CHECK_EQ(drained, 1);
	vm_devices_destroy(&vm.devices);
	bus_free(&vm.pio);
}

/* So does a restore that replaces a full FIFO with a shorter one. */
static void test_restore_resumes(void)
{
	struct vm vm, other;
	struct serial *s = make(&vm);
	make(&other);
	struct vmstate_out out;
	vmstate_out_init(&out);
	CHECK_EQ(vm_device_save(vm_device_find(&other.devices, "serial"), &out), 0);
	drained = 0;
	fill(s);
	struct vmstate_in in;
	vmstate_in_init(&in, out.buf, out.len);
	CHECK_EQ(vm_device_restore(vm_device_find(&vm.devices, "serial"), &in), 0);
	CHECK_EQ(serial_input_room(s), 1024u);
	CHECK_EQ(drained, 1);
	vmstate_out_free(&out);
	vm_devices_destroy(&vm.devices);
	vm_devices_destroy(&other.devices);
	bus_free(&vm.pio);
	bus_free(&other.pio);
}

/* Loopback wires the modem outputs to the inputs, RTS -> CTS, DTR -> DSR, OUT1 -> RI, OUT2 ->
 * DCD; Linux's 8250 autoconfig checks it (MCR LOOP|RTS|OUT2 must read back CTS|DCD, 0x90). */
static void test_loopback_msr(void)
{
	struct vm vm;
	make(&vm);
	uint8_t msr;
	reg(&vm, 4, 0x10 | 0x0a, true, NULL);
	reg(&vm, 6, 0, false, &msr);
	CHECK_EQ(msr & 0xf0, 0x90);
	reg(&vm, 4, 0x10 | 0x01, true, NULL); /* DTR */
	reg(&vm, 6, 0, false, &msr);
	CHECK_EQ(msr & 0xf0, 0x20);
	reg(&vm, 4, 0x10 | 0x04, true, NULL); /* OUT1 */
	reg(&vm, 6, 0, false, &msr);
	CHECK_EQ(msr & 0xf0, 0x40);
	vm_devices_destroy(&vm.devices);
	bus_free(&vm.pio);
}

int main(void)
{
	RUN(test_read_resumes);
	RUN(test_fifo_clear_resumes);
	RUN(test_reset_resumes);
	RUN(test_restore_resumes);
	RUN(test_loopback_msr);
	UNIT_EXIT();
}
