#include "legacy.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/log.h"
#include "../boot/layout.h"
#include "../vm.h"
#include "../vmstate.h"

/* ---- i8042 ---------------------------------------------------------------------------
 * Linux probes the controller with a handful of commands and spins (with timeouts of
 * hundreds of ms) until the output buffer fills, so every command it sends at boot gets
 * an answer. There is no mouse behind it: AUX tests fail, so Linux skips the mouse without
 * waiting for interrupts. The keyboard only ever sends Ctrl+Alt+Del, when the host asks
 * (PUT /actions SendCtrlAltDel, as Firecracker's), with IRQ 1 while those bytes wait. */
#define I8042_STATUS_OBF 0x01
#define I8042_STATUS_SYS 0x04
#define I8042_STATUS_CMD 0x08
#define I8042_STATUS_AUXDATA 0x20

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ctr;          /* controller configuration ("command byte") */
	uint8_t pending_cmd;  /* command waiting for its data byte (0x60, 0xD3, 0xD4) */
	uint8_t out[8];
	int nout;
	bool out_aux;
	bool key_irq;         /* out holds key bytes the host sent: raise IRQ 1 while it does */
};

#define I8042_KBD_IRQ 1
#define I8042_CTR_KBD_INT 0x01
#define I8042_CTR_KBD_DISABLE 0x10
#define I8042_CTR_XLATE 0x40

static void i8042_push(struct i8042 *k, uint8_t v, bool aux)
{
	if (k->nout < (int)sizeof(k->out))
		k->out[k->nout++] = v;
	k->out_aux = aux;
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x20: i8042_push(k, k->ctr, false); break;            /* read CTR */
	case 0x60: case 0xD3: case 0xD4: k->pending_cmd = cmd; break; /* data byte follows */
	case 0xA7: k->ctr |= 0x20; break;                          /* disable AUX */
	case 0xA8: k->ctr &= (uint8_t)~0x20; break;                /* enable AUX */
	case 0xA9: i8042_push(k, 0x01, false); break;              /* AUX test: clock line stuck low */
	case 0xAA: i8042_push(k, 0x55, false); break;              /* self-test passed */
	case 0xAB: i8042_push(k, 0x00, false); break;              /* keyboard interface test ok */
	case 0xAD: k->ctr |= 0x10; break;
	case 0xAE: k->ctr &= (uint8_t)~0x10; break;
	case 0xFE:                                                  /* pulse reset line */
		cap_debug("i8042: reset requested by the guest");
		vm_request_stop(k->vm, VM_STOP_REBOOT);
		break;
	default: break;
	}
}

/* An edge on the keyboard's IOAPIC pin: one more byte is there to read. */
static void kbd_pulse(struct i8042 *k)
{
	vm_irq_line(k->vm, I8042_KBD_IRQ, 1);
	vm_irq_line(k->vm, I8042_KBD_IRQ, 0);
}

static void i8042_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct i8042 *k = opaque;
	uint16_t port = (uint16_t)(PORT_I8042_DATA + off);
	bool pulse = false;

	if (len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&k->lock);
	if (port == PORT_I8042_CMD) {
		if (is_write)
			i8042_command(k, data[0]);
		else
			data[0] = I8042_STATUS_SYS | (k->nout ? I8042_STATUS_OBF : 0) |
				  (k->nout && k->out_aux ? I8042_STATUS_AUXDATA : 0);
	} else if (port == PORT_I8042_DATA) {
		if (is_write) {
			uint8_t cmd = k->pending_cmd;
			k->pending_cmd = 0;
			if (cmd == 0x60)
				k->ctr = data[0];
			else if (cmd == 0xD3) /* AUX loopback: no mouse port, answer with a mismatch */
				i8042_push(k, (uint8_t)~data[0], true);
			else if (cmd == 0xD4)
				i8042_push(k, 0xFE, true); /* no device on AUX: resend/NAK */
			else
				i8042_push(k, 0xFA, false); /* keyboard command: ACK */
		} else if (k->nout) {
			data[0] = k->out[0];
			memmove(k->out, k->out + 1, (size_t)--k->nout);
			if (!k->nout)
				k->key_irq = false;
			pulse = k->key_irq && (k->ctr & I8042_CTR_KBD_INT);
		} else {
			data[0] = 0;
		}
	} else if (!is_write) {
		data[0] = 0xff;
	}
	pthread_mutex_unlock(&k->lock);
	if (pulse)
		kbd_pulse(k);
}

int i8042_send_ctrl_alt_del(struct vm *vm, cap_err *err)
{
	/* Make codes of Left Ctrl, Left Alt and Delete, in the set the guest reads: set 1 when the
	 * controller translates (the power-on CTR), set 2 when the guest turned translation off. */
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53 }, set2[] = { 0x14, 0x11, 0xe0, 0x71 };
	struct vm_device *d = vm_device_find(&vm->devices, "i8042");
	if (!d)
		return cap_errf(err, ENODEV, "SendCtrlAltDel: no i8042");
	struct i8042 *k = d->opaque;
	pthread_mutex_lock(&k->lock);
	const uint8_t *keys = k->ctr & I8042_CTR_XLATE ? set1 : set2;
	bool room = k->nout + 4 <= (int)sizeof(k->out), on = !(k->ctr & I8042_CTR_KBD_DISABLE);
	if (room && on) {
		for (int i = 0; i < 4; i++)
			i8042_push(k, keys[i], false);
		k->key_irq = true;
	}
	bool pulse = room && on && (k->ctr & I8042_CTR_KBD_INT);
	pthread_mutex_unlock(&k->lock);
	if (!on)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "SendCtrlAltDel: the guest has disabled its keyboard");
	if (!room)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0,
				     "SendCtrlAltDel: the guest has not read the keyboard's last bytes yet");
	if (pulse)
		kbd_pulse(k);
	return 0;
}

#define I8042_CTR_POWER_ON 0x45 /* kbd IRQ on, SYS flag, translate */

static void i8042_reset(void *opaque)
{
	struct i8042 *k = opaque;
	pthread_mutex_lock(&k->lock);
	k->ctr = I8042_CTR_POWER_ON;
	k->pending_cmd = 0;
	k->nout = 0;
	k->out_aux = false;
	k->key_irq = false;
	pthread_mutex_unlock(&k->lock);
}

static int i8042_save(void *opaque, struct vmstate_out *out)
{
	struct i8042 *k = opaque;
	pthread_mutex_lock(&k->lock);
	vmstate_put_u8(out, "ctr", k->ctr);
	vmstate_put_u8(out, "pending_cmd", k->pending_cmd);
	vmstate_put_bool(out, "out_aux", k->out_aux);
	int r = vmstate_put_bytes(out, "out", k->out, (size_t)k->nout);
	pthread_mutex_unlock(&k->lock);
	return r;
}

static int i8042_restore(void *opaque, const struct vmstate_in *in)
{
	struct i8042 *k = opaque;
	uint8_t ctr, pending, buf[sizeof(k->out)];
	bool aux;
	size_t n;
	int r;

	if ((r = vmstate_get_u8(in, "ctr", &ctr)) < 0 || (r = vmstate_get_u8(in, "pending_cmd", &pending)) < 0 ||
	    (r = vmstate_get_bool(in, "out_aux", &aux)) < 0 || (r = vmstate_get_bytes(in, "out", buf, sizeof(buf), &n)) < 0)
		return r;
	if (pending != 0 && pending != 0x60 && pending != 0xD3 && pending != 0xD4)
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	k->ctr = ctr;
	k->pending_cmd = pending;
	k->out_aux = aux;
	memcpy(k->out, buf, n);
	k->nout = (int)n;
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static void i8042_destroy(void *opaque)
{
	struct i8042 *k = opaque;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static const struct vm_device_ops i8042_ops = {
	.type = "i8042",
	.state_version = 1,
	.reset = i8042_reset,
	.save = i8042_save,
	.restore = i8042_restore,
	.destroy = i8042_destroy,
};

int i8042_create(struct vm *vm, cap_err *err)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	if (!k)
		return cap_errf(err, ENOMEM, "i8042");
	k->vm = vm;
	k->ctr = I8042_CTR_POWER_ON;
	pthread_mutex_init(&k->lock, NULL);
	/* Owned by the VM first, so that no failure below leaves the bus pointing at freed memory. */
	int r = vm_add_device(vm, "i8042", &i8042_ops, k, err);
	if (r < 0)
		return r;
	r = bus_register(&vm->pio, PORT_I8042_DATA, PORT_I8042_CMD - PORT_I8042_DATA + 1, i8042_access, k, "i8042");
	if (r < 0)
		return cap_errf(err, -r, "i8042: cannot register ports 0x60-0x64");
	return 0;
}

/* ---- test-exit port (Capsule test guests) ----
 * Always on the bus, armed only when the loaded kernel is a Capsule test guest; unarmed it
 * behaves like an unclaimed port (reads all-ones, writes ignored). */
struct test_exit {
	struct vm *vm;
	atomic_bool armed;
};

static void test_exit_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct test_exit *te = opaque;
	struct vm *vm = te->vm;
	(void)off;
	if (!atomic_load(&te->armed)) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	uint32_t v = 0;
	memcpy(&v, data, len > 4 ? 4 : len);
	pthread_mutex_lock(&vm->lock);
	if (vm->stop_reason == VM_STOP_NONE)
		vm->test_exit_status = (int)(v & 0xff);
	pthread_mutex_unlock(&vm->lock);
	vm_request_stop(vm, VM_STOP_TEST_EXIT);
}

/* The test-exit port and the boot timer each keep one flag as their whole state. */
static int save_flag(struct vmstate_out *out, const char *name, atomic_bool *flag)
{
	return vmstate_put_bool(out, name, atomic_load(flag));
}

static int restore_flag(const struct vmstate_in *in, const char *name, atomic_bool *flag)
{
	bool v;
	int r = vmstate_get_bool(in, name, &v);
	if (r == 0)
		atomic_store(flag, v);
	return r;
}

static int test_exit_save(void *opaque, struct vmstate_out *out)
{
	return save_flag(out, "armed", &((struct test_exit *)opaque)->armed);
}

static int test_exit_restore(void *opaque, const struct vmstate_in *in)
{
	return restore_flag(in, "armed", &((struct test_exit *)opaque)->armed);
}

static void free_plain(void *p)
{
	free(p);
}

/* No reset: whether the port is armed depends on the kernel, which a reset keeps. */
static const struct vm_device_ops test_exit_ops = {
	.type = "test-exit",
	.state_version = 1,
	.save = test_exit_save,
	.restore = test_exit_restore,
	.destroy = free_plain,
};

int test_exit_create(struct vm *vm, cap_err *err)
{
	struct test_exit *te = calloc(1, sizeof(*te));
	if (!te)
		return cap_errf(err, ENOMEM, "test-exit port");
	te->vm = vm;
	int r = vm_add_device(vm, "test-exit", &test_exit_ops, te, err);
	if (r < 0)
		return r;
	r = bus_register(&vm->pio, PORT_TEST_EXIT, 4, test_exit_access, te, "test-exit");
	if (r < 0)
		return cap_errf(err, -r, "test-exit port 0x%x", PORT_TEST_EXIT);
	return 0;
}

void test_exit_arm(struct vm *vm)
{
	struct vm_device *d = vm_device_find(&vm->devices, "test-exit");
	if (d)
		atomic_store(&((struct test_exit *)d->opaque)->armed, true);
}

/* ---- boot timer ---- */

/* The VMM's own resident memory: the Rss of every mapping but guest RAM, summed from
 * /proc/self/smaps (the per-process counters in /proc/self/status are approximate on
 * some kernels). Returns KiB, or -1. Runs once, at the boot-timer poke. */
static long vmm_rss_kib(const struct vm *vm, long *private_kib)
{
	char line[512];
	long total = 0, rss, priv;
	bool in_guest = false;
	uintptr_t guest_lo = (uintptr_t)vm->mem.base, guest_hi = guest_lo + vm->mem.total;
	FILE *f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in_guest = lo >= guest_lo && hi <= guest_hi;
		else if (!in_guest && sscanf(line, "Rss: %ld kB", &rss) == 1)
			total += rss;
		else if (!in_guest && (sscanf(line, "Private_Clean: %ld kB", &priv) == 1 ||
				       sscanf(line, "Private_Dirty: %ld kB", &priv) == 1))
			*private_kib += priv;
	}
	fclose(f);
	return total;
}

struct boot_timer {
	struct vm *vm;
	atomic_bool reported;	/* once: a guest writing 123 again must not make the vCPU re-read smaps and print */
};

static void boot_timer_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct boot_timer *bt = opaque;
	struct vm *vm = bt->vm;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (off != 0 || data[0] != MMIO_BOOT_TIMER_MAGIC)
		return;
	uint64_t now = vm_now_ns(), zero = 0;
	/* The API's metrics report the guest's boot time whether or not --boot-timer prints it. */
	__atomic_compare_exchange_n(&vm->t_guest_init_ns, &zero, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	if (!vm->boot_timer || atomic_exchange(&bt->reported, true))
		return;
	/* One line each, on stderr, so that scripts can grep them apart from the guest console. */
	fprintf(stderr, "boot: %.1f ms (VM start -> init)\n", (double)(now - vm->t_vm_start_ns) / 1e6);
	fprintf(stderr, "start: %.2f CPU-ms (process start -> first guest instruction)\n", vm->start_cpu_ms);
	/* The wall clock has no "process start" a process can read precisely; the realtime of the first
	 * entry lets the launcher subtract its own launch time (bench/vm_start.sh does). */
	fprintf(stderr, "first-entry: %lld.%06ld (realtime)\n", (long long)vm->first_entry.tv_sec,
		vm->first_entry.tv_nsec / 1000);
	long priv = 0, rss = vmm_rss_kib(vm, &priv);
	/* RSS counts shared library pages too; the private part is what this VMM alone costs. */
	if (rss >= 0)
		fprintf(stderr, "vmm: %.2f MiB resident (%.2f MiB private), guest memory excluded\n",
			(double)rss / 1024.0, (double)priv / 1024.0);
}

static int boot_timer_save(void *opaque, struct vmstate_out *out)
{
	return save_flag(out, "reported", &((struct boot_timer *)opaque)->reported);
}

static int boot_timer_restore(void *opaque, const struct vmstate_in *in)
{
	return restore_flag(in, "reported", &((struct boot_timer *)opaque)->reported);
}

/* No reset: the boot time is measured once per VM, a guest reboot does not start it again. */
static const struct vm_device_ops boot_timer_ops = {
	.type = "boot-timer",
	.state_version = 1,
	.save = boot_timer_save,
	.restore = boot_timer_restore,
	.destroy = free_plain,
};

int boot_timer_create(struct vm *vm, cap_err *err)
{
	struct boot_timer *bt = calloc(1, sizeof(*bt));
	if (!bt)
		return cap_errf(err, ENOMEM, "boot timer");
	bt->vm = vm;
	int r = vm_add_device(vm, "boot-timer", &boot_timer_ops, bt, err);
	if (r < 0)
		return r;
	r = bus_register(&vm->mmio, MMIO_BOOT_TIMER_ADDR, 0x1000, boot_timer_access, bt, "boot-timer");
	if (r < 0)
		return cap_errf(err, -r, "boot timer at 0x%llx", (unsigned long long)MMIO_BOOT_TIMER_ADDR);
	return 0;
}
