/* ACPI PM1a event/control block and reset register (layout in acpi_pm.h). The registers
 * are kept as bytes so that any access width at any offset (ACPICA uses 16-bit accesses,
 * a hand-written guest may use 8) behaves the same. */
#include "acpi_pm.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/log.h"
#include "../vm.h"
#include "../vmstate.h"

struct acpi_pm {
	struct vm *vm;
	pthread_mutex_t lock;       /* vCPU threads may touch the registers concurrently */
	uint8_t reg[ACPI_PM_LEN];   /* PM1_STS, PM1_EN, PM1_CNT (SLP_EN never stored), reset */
};

static uint8_t pm_read_byte(struct acpi_pm *pm, uint64_t off)
{
	switch (off) {
	case ACPI_PM1_CNT_OFF:
		return (uint8_t)(pm->reg[off] | ACPI_PM1_CNT_SCI_EN); /* always in ACPI mode */
	case ACPI_PM1_EVT_OFF:
	case ACPI_PM1_EVT_OFF + 1:
		return 0;             /* no status bit is ever set (WAK_STS included: no S1-S4) */
	case ACPI_PM_RESET_OFF:
		return 0;             /* write-only */
	default:
		return off < ACPI_PM_LEN ? pm->reg[off] : 0xff;
	}
}

/* Returns the stop reason the byte write asks for, or VM_STOP_NONE. */
static enum vm_stop_reason pm_write_byte(struct acpi_pm *pm, uint64_t off, uint8_t v)
{
	switch (off) {
	case ACPI_PM1_CNT_OFF + 1: {
		/* SLP_TYP (bits 10-12) and SLP_EN (bit 13) both live in the high byte, so a byte
		 * write and a word write decode alike. Linux writes SLP_TYP first, then SLP_TYP|SLP_EN. */
		unsigned cnt = (unsigned)v << 8;
		unsigned typ = (cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;
		pm->reg[off] = (uint8_t)((cnt & ~ACPI_PM1_CNT_SLP_EN) >> 8);
		if ((cnt & ACPI_PM1_CNT_SLP_EN) && typ == ACPI_SLP_TYP_S5)
			return VM_STOP_POWEROFF;
		return VM_STOP_NONE;  /* other sleep types: no S1-S4 here, ignore */
	}
	case ACPI_PM_RESET_OFF:
		return v == ACPI_PM_RESET_VALUE ? VM_STOP_REBOOT : VM_STOP_NONE;
	case ACPI_PM1_EVT_OFF:
	case ACPI_PM1_EVT_OFF + 1:
		return VM_STOP_NONE;  /* write 1 to clear: nothing is set */
	default:
		if (off < ACPI_PM_LEN)
			pm->reg[off] = v;
		return VM_STOP_NONE;
	}
}

static void acpi_pm_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct acpi_pm *pm = opaque;
	enum vm_stop_reason stop = VM_STOP_NONE;

	pthread_mutex_lock(&pm->lock);
	for (uint32_t i = 0; i < len; i++) {
		uint64_t off = offset + i;
		if (!is_write) {
			data[i] = pm_read_byte(pm, off);
			continue;
		}
		enum vm_stop_reason s = pm_write_byte(pm, off, data[i]);
		if (stop == VM_STOP_NONE)
			stop = s;
	}
	pthread_mutex_unlock(&pm->lock);

	if (stop != VM_STOP_NONE) {
		cap_debug("acpi: guest requested %s", stop == VM_STOP_POWEROFF ? "poweroff (S5)" : "reset");
		vm_request_stop(pm->vm, stop);
	}
}

static void acpi_pm_destroy(void *opaque)
{
	struct acpi_pm *pm = opaque;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static void acpi_pm_reset(void *opaque)
{
	struct acpi_pm *pm = opaque;
	pthread_mutex_lock(&pm->lock);
	memset(pm->reg, 0, sizeof(pm->reg));
	pthread_mutex_unlock(&pm->lock);
}

static int acpi_pm_save(void *opaque, struct vmstate_out *out)
{
	struct acpi_pm *pm = opaque;
	pthread_mutex_lock(&pm->lock);
	int r = vmstate_put_bytes(out, "regs", pm->reg, sizeof(pm->reg));
	pthread_mutex_unlock(&pm->lock);
	return r;
}

static int acpi_pm_restore(void *opaque, const struct vmstate_in *in)
{
	struct acpi_pm *pm = opaque;
	uint8_t reg[ACPI_PM_LEN];
	size_t n;
	int r = vmstate_get_bytes(in, "regs", reg, sizeof(reg), &n);
	if (r < 0)
		return r;
	if (n != sizeof(reg) || (reg[ACPI_PM1_CNT_OFF + 1] & (ACPI_PM1_CNT_SLP_EN >> 8)))
		return -EINVAL; /* SLP_EN is never stored: it acts at once */
	pthread_mutex_lock(&pm->lock);
	memcpy(pm->reg, reg, sizeof(reg));
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

static const struct vm_device_ops acpi_pm_ops = {
	.type = "acpi-pm",
	.state_version = 1,
	.reset = acpi_pm_reset,
	.save = acpi_pm_save,
	.restore = acpi_pm_restore,
	.destroy = acpi_pm_destroy,
};

int acpi_pm_register(struct vm *vm, cap_err *err)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	int r;

	if (!pm)
		return cap_errf(err, ENOMEM, "ACPI power management device");
	pm->vm = vm;
	pthread_mutex_init(&pm->lock, NULL);
	/* The VM owns pm from here on (freed at teardown), so a failed bus registration below
	 * leaves nothing dangling. */
	r = vm_add_device(vm, "acpi-pm", &acpi_pm_ops, pm, err);
	if (r < 0)
		return r;
	r = bus_register(&vm->pio, ACPI_PM_PORT, ACPI_PM_LEN, acpi_pm_access, pm, "acpi-pm");
	if (r < 0)
		return cap_errf(err, -r, "ACPI power management device: ports 0x%x-0x%x", ACPI_PM_PORT,
				ACPI_PM_PORT + ACPI_PM_LEN - 1);
	return 0;
}
