/* 16550A model. Transmission is instant (the THR is always empty again right after a
 * write), so the THRE interrupt is re-armed on every THR write: Linux's 8250 driver
 * sends user-space console output only when that interrupt arrives (KVM-HERE.md).
 * The IRQ line is driven as a level computed from the pending conditions; KVM turns
 * each 0->1 transition into an edge on the IOAPIC pin. */
#include "serial.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../boot/layout.h"
#include "../vm.h"
#include "../vmstate.h"

#define SERIAL_IRQ 4
#define FIFO_SIZE 1024

#define UART_IER_RDI 0x01
#define UART_IER_THRI 0x02
#define UART_IER_RLSI 0x04
#define UART_IER_MSI 0x08
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_FIFO_ENABLED 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_DCD 0x80
#define UART_MSR_RI 0x40
#define UART_MSR_DSR 0x20
#define UART_MSR_CTS 0x10

struct serial {
	struct vm *vm;
	int out_fd;
	bool own_fd;           /* out_fd is a console file this device opened */
	pthread_mutex_t lock;  /* registers are touched by vCPU threads and the console input thread */
	uint8_t ier, lcr, mcr, msr, scr, fcr, dll, dlm;
	bool thri_pending;
	int irq_level;
	uint8_t rx[FIFO_SIZE];
	size_t rx_head, rx_len;
	/* panic detection: match the kernel's "Kernel panic - not syncing" on the console */
	size_t panic_match;
	void (*drain_fn)(void *opaque);
	void *drain_opaque;
};

static const char panic_text[] = "Kernel panic - not syncing";

static void update_irq(struct serial *s)
{
	bool rdi = (s->ier & UART_IER_RDI) && s->rx_len > 0;
	bool thri = (s->ier & UART_IER_THRI) && s->thri_pending;
	int level = (rdi || thri) ? 1 : 0;
	if (level != s->irq_level) {
		s->irq_level = level;
		vm_irq_line(s->vm, SERIAL_IRQ, level);
	}
}

static uint8_t iir(struct serial *s)
{
	uint8_t fifo = (s->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO_ENABLED : 0;
	if ((s->ier & UART_IER_RDI) && s->rx_len > 0)
		return fifo | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thri_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

static void watch_for_panic(struct serial *s, uint8_t c)
{
	if (c == (uint8_t)panic_text[s->panic_match]) {
		if (++s->panic_match == sizeof(panic_text) - 1) {
			atomic_store(&s->vm->panic_seen, 1);
			s->panic_match = 0;
		}
	} else {
		s->panic_match = c == (uint8_t)panic_text[0] ? 1 : 0;
	}
}

/* Every way out of the full state (a guest read, an FCR clear, a reset, a restore) resumes an
 * input source that paused on it: none may leave it waiting for room it already has. */
static void rx_shrunk(struct serial *s, size_t old_len)
{
	if (old_len == FIFO_SIZE && s->rx_len < FIFO_SIZE && s->drain_fn)
		s->drain_fn(s->drain_opaque);
}

static void transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & UART_MCR_LOOP) {
		if (s->rx_len < FIFO_SIZE) {
			s->rx[(s->rx_head + s->rx_len) % FIFO_SIZE] = c;
			s->rx_len++;
		}
		return;
	}
	watch_for_panic(s, c);
	if (s->out_fd >= 0) {
		/* Short writes and EAGAIN on a full pipe are retried; a closed console drops output. */
		for (;;) {
			ssize_t n = write(s->out_fd, &c, 1);
			if (n == 1 || (n < 0 && errno != EINTR && errno != EAGAIN))
				break;
		}
	}
}

static void serial_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct serial *s = opaque;

	if (len != 1) { /* the 16550 has byte registers only */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&s->lock);
	bool dlab = s->lcr & UART_LCR_DLAB;
	if (is_write) {
		uint8_t v = data[0];
		switch (off) {
		case 0:
			if (dlab) {
				s->dll = v;
			} else {
				transmit(s, v);
				/* THR drained at once: the THRE condition is new again -> a fresh edge. */
				s->thri_pending = false;
				update_irq(s);
				s->thri_pending = true;
			}
			break;
		case 1:
			if (dlab) {
				s->dlm = v;
			} else {
				uint8_t old = s->ier;
				s->ier = v & 0x0f;
				if (!(old & UART_IER_THRI) && (s->ier & UART_IER_THRI))
					s->thri_pending = true;
			}
			break;
		case 2:
			s->fcr = v;
			if (v & UART_FCR_CLEAR_RCVR) {
				size_t old = s->rx_len;
				s->rx_len = 0;
				rx_shrunk(s, old);
			}
			break;
		case 3:
			s->lcr = v;
			break;
		case 4:
			s->mcr = v & 0x1f;
			break;
		case 7:
			s->scr = v;
			break;
		default:
			break;
		}
	} else {
		uint8_t v = 0;
		switch (off) {
		case 0:
			if (dlab) {
				v = s->dll;
			} else if (s->rx_len) {
				v = s->rx[s->rx_head];
				s->rx_head = (s->rx_head + 1) % FIFO_SIZE;
				s->rx_len--;
				rx_shrunk(s, s->rx_len + 1);
			}
			break;
		case 1:
			v = dlab ? s->dlm : s->ier;
			break;
		case 2:
			v = iir(s);
			/* Reading IIR while THRE is the reported source acknowledges it. */
			if ((v & 0x0f) == UART_IIR_THRI)
				s->thri_pending = false;
			break;
		case 3:
			v = s->lcr;
			break;
		case 4:
			v = s->mcr;
			break;
		case 5:
			v = UART_LSR_THRE | UART_LSR_TEMT | (s->rx_len ? UART_LSR_DR : 0);
			break;
		case 6:
			if (s->mcr & UART_MCR_LOOP) /* the modem outputs wired back to the inputs */
				v = (s->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) | (s->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
				    (s->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (s->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
			else
				v = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
			break;
		case 7:
			v = s->scr;
			break;
		default:
			break;
		}
		data[0] = v;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_input(struct serial *s, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < len && s->rx_len < FIFO_SIZE; i++) {
		s->rx[(s->rx_head + s->rx_len) % FIFO_SIZE] = buf[i];
		s->rx_len++;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

size_t serial_input_room(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	size_t room = FIFO_SIZE - s->rx_len;
	pthread_mutex_unlock(&s->lock);
	return room;
}

void serial_set_drain_notify(struct serial *s, void (*fn)(void *opaque), void *opaque)
{
	pthread_mutex_lock(&s->lock);
	s->drain_fn = fn;
	s->drain_opaque = opaque;
	pthread_mutex_unlock(&s->lock);
}

/* Power-on register values (what a BIOS leaves: modem lines up, OUT2 so the IRQ reaches the PIC). */
static void power_on(struct serial *s)
{
	s->ier = s->lcr = s->scr = s->fcr = s->dll = s->dlm = 0;
	s->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	s->mcr = UART_MCR_OUT2;
	s->thri_pending = false;
	s->rx_head = s->rx_len = 0;
	s->panic_match = 0;
}

static void serial_reset(void *opaque)
{
	struct serial *s = opaque;
	pthread_mutex_lock(&s->lock);
	size_t old = s->rx_len;
	power_on(s);
	rx_shrunk(s, old);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static int serial_save(void *opaque, struct vmstate_out *out)
{
	struct serial *s = opaque;
	uint8_t rx[FIFO_SIZE];

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->rx_len; i++)
		rx[i] = s->rx[(s->rx_head + i) % FIFO_SIZE];
	vmstate_put_u8(out, "ier", s->ier);
	vmstate_put_u8(out, "lcr", s->lcr);
	vmstate_put_u8(out, "mcr", s->mcr);
	vmstate_put_u8(out, "msr", s->msr);
	vmstate_put_u8(out, "scr", s->scr);
	vmstate_put_u8(out, "fcr", s->fcr);
	vmstate_put_u8(out, "dll", s->dll);
	vmstate_put_u8(out, "dlm", s->dlm);
	vmstate_put_bool(out, "thri_pending", s->thri_pending);
	vmstate_put_bool(out, "irq_level", s->irq_level);
	vmstate_put_u32(out, "panic_match", (uint32_t)s->panic_match);
	int r = vmstate_put_bytes(out, "rx_fifo", rx, s->rx_len);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Everything is read and checked first; the device changes only when all of it is sane. */
static int serial_restore(void *opaque, const struct vmstate_in *in)
{
	struct serial *s = opaque;
	uint8_t ier, lcr, mcr, msr, scr, fcr, dll, dlm, rx[FIFO_SIZE];
	bool thri, level;
	uint32_t panic_match;
	size_t rx_len;
	int r;

	if ((r = vmstate_get_u8(in, "ier", &ier)) < 0 || (r = vmstate_get_u8(in, "lcr", &lcr)) < 0 ||
	    (r = vmstate_get_u8(in, "mcr", &mcr)) < 0 || (r = vmstate_get_u8(in, "msr", &msr)) < 0 ||
	    (r = vmstate_get_u8(in, "scr", &scr)) < 0 || (r = vmstate_get_u8(in, "fcr", &fcr)) < 0 ||
	    (r = vmstate_get_u8(in, "dll", &dll)) < 0 || (r = vmstate_get_u8(in, "dlm", &dlm)) < 0 ||
	    (r = vmstate_get_bool(in, "thri_pending", &thri)) < 0 || (r = vmstate_get_bool(in, "irq_level", &level)) < 0 ||
	    (r = vmstate_get_u32(in, "panic_match", &panic_match)) < 0 ||
	    (r = vmstate_get_bytes(in, "rx_fifo", rx, sizeof(rx), &rx_len)) < 0)
		return r;
	if ((ier & ~0x0fu) || (mcr & ~0x1fu) || panic_match >= sizeof(panic_text) - 1)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	s->ier = ier;
	s->lcr = lcr;
	s->mcr = mcr;
	s->msr = msr;
	s->scr = scr;
	s->fcr = fcr;
	s->dll = dll;
	s->dlm = dlm;
	s->thri_pending = thri;
	/* The interrupt controller's own state comes back with the VM's; the line is as it was. */
	s->irq_level = level;
	s->panic_match = panic_match;
	memcpy(s->rx, rx, rx_len);
	s->rx_head = 0;
	size_t old = s->rx_len;
	s->rx_len = rx_len;
	rx_shrunk(s, old);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void serial_destroy(void *opaque)
{
	struct serial *s = opaque;
	if (s->own_fd)
		close(s->out_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct vm_device_ops serial_ops = {
	.type = "serial",
	.state_version = 1,
	.reset = serial_reset,
	.save = serial_save,
	.restore = serial_restore,
	.destroy = serial_destroy,
};

/* own: out_fd is closed with the device, whatever fails here. */
static int serial_new(struct vm *vm, int out_fd, bool own, struct serial **out, cap_err *err)
{
	struct serial *s = calloc(1, sizeof(*s));
	if (!s) {
		if (own)
			close(out_fd);
		return cap_errf(err, ENOMEM, "serial console");
	}
	s->vm = vm;
	s->out_fd = out_fd;
	s->own_fd = own;
	power_on(s);
	pthread_mutex_init(&s->lock, NULL);
	int r = vm_add_device(vm, "serial", &serial_ops, s, err);
	if (r < 0)
		return r;
	r = bus_register(&vm->pio, PORT_COM1, 8, serial_access, s, "serial");
	if (r < 0)
		return cap_errf(err, -r, "serial console: port 0x%x", PORT_COM1);
	*out = s;
	return 0;
}

int serial_create(struct vm *vm, int out_fd, struct serial **out, cap_err *err)
{
	return serial_new(vm, out_fd, false, out, err);
}

int serial_init(struct vm *vm, cap_err *err)
{
	int fd = -1;
	if (vm->cfg.console == VM_CONSOLE_STDIO)
		fd = STDOUT_FILENO;
	if (vm->cfg.console == VM_CONSOLE_FILE) {
		fd = open(vm->cfg.console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return cap_errf(err, errno, "console file %s", vm->cfg.console_path);
	}
	return serial_new(vm, fd, fd > STDERR_FILENO, &vm->serial, err);
}
