/* The irqchip, PIT and clock in and out of KVM and the snapshot (kvm_vm_state.h). */
#include "kvm_vm_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#define IOAPIC_PINS 24	/* KVM_IOAPIC_NUM_PINS */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The 8259's registers, all one byte. */
#define P(x) { #x, offsetof(struct kvm_pic_state, x) }
static const struct {
	const char *name;
	size_t off;
} pic_fields[] = {
	P(last_irr), P(irr), P(imr), P(isr), P(priority_add), P(irq_base), P(read_reg_select), P(poll),
	P(special_mask), P(init_state), P(auto_eoi), P(rotate_on_auto_eoi), P(special_fully_nested_mode),
	P(init4), P(elcr), P(elcr_mask),
};
#undef P
#define C(x) { #x, offsetof(struct kvm_pit_channel_state, x) }
static const struct {
	const char *name;
	size_t off;
} pit_u8_fields[] = {
	C(count_latched), C(status_latched), C(status), C(read_state), C(write_state), C(write_latch),
	C(rw_mode), C(mode), C(bcd), C(gate),
};
#undef C

int kvm_vm_state_read(int vm_fd, struct kvm_vm_saved *s, cap_err *err)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 3; i++) {
		struct kvm_irqchip chip = { .chip_id = (uint32_t)i };
		if (ioctl(vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return cap_errf(err, errno, "KVM_GET_IRQCHIP %d", i);
		if (i < 2)
			s->pic[i] = chip.chip.pic;
		else
			s->ioapic = chip.chip.ioapic;
	}
	if (ioctl(vm_fd, KVM_GET_PIT2, &s->pit) < 0)
		return cap_errf(err, errno, "KVM_GET_PIT2");
	struct kvm_clock_data clk;
	memset(&clk, 0, sizeof(clk));
	if (ioctl(vm_fd, KVM_GET_CLOCK, &clk) < 0)
		return cap_errf(err, errno, "KVM_GET_CLOCK");
	s->clock = clk.clock;
	return 0;
}

/* Field names are built per index; a static table keeps them alive for error messages. */
static char names[2][NELEM(pic_fields)][40];

static const char *pic_name(int chip, size_t f)
{
	snprintf(names[chip][f], sizeof(names[chip][f]), "pic%d.%s", chip, pic_fields[f].name);
	return names[chip][f];
}

static const char *pit_name(int ch, const char *what)
{
	static char buf[3][16][40];
	static int next[3];
	char *b = buf[ch][next[ch]++ % 16];
	snprintf(b, 40, "pit%d.%s", ch, what);
	return b;
}

int kvm_vm_state_encode(const struct kvm_vm_saved *s, struct vmstate_out *out)
{
	char name[40];
	for (int c = 0; c < 2; c++)
		for (size_t f = 0; f < NELEM(pic_fields); f++)
			vmstate_put_u8(out, pic_name(c, f), *((const uint8_t *)&s->pic[c] + pic_fields[f].off));
	vmstate_put_u64(out, "ioapic.base_address", s->ioapic.base_address);
	vmstate_put_u32(out, "ioapic.ioregsel", s->ioapic.ioregsel);
	vmstate_put_u32(out, "ioapic.id", s->ioapic.id);
	vmstate_put_u32(out, "ioapic.irr", s->ioapic.irr);
	for (int i = 0; i < IOAPIC_PINS; i++) {
		snprintf(name, sizeof(name), "ioapic.redir%d", i);
		vmstate_put_u64(out, name, s->ioapic.redirtbl[i].bits);
	}
	for (int ch = 0; ch < 3; ch++) {
		const struct kvm_pit_channel_state *p = &s->pit.channels[ch];
		vmstate_put_u32(out, pit_name(ch, "count"), p->count);
		vmstate_put_u16(out, pit_name(ch, "latched_count"), p->latched_count);
		for (size_t f = 0; f < NELEM(pit_u8_fields); f++)
			vmstate_put_u8(out, pit_name(ch, pit_u8_fields[f].name), *((const uint8_t *)p + pit_u8_fields[f].off));
		vmstate_put_u64(out, pit_name(ch, "count_load_time"), (uint64_t)p->count_load_time);
	}
	vmstate_put_u32(out, "pit.flags", s->pit.flags);
	return vmstate_put_u64(out, "clock", s->clock);
}

int kvm_vm_state_decode(const struct vmstate_in *in, struct kvm_vm_saved *s, cap_err *err)
{
	const char *bad = NULL;
	int r = 0;
#define GET(fn, nm, ptr)                                     \
	do {                                                 \
		if (r == 0 && (r = fn(in, (nm), (ptr))) < 0) \
			bad = (nm);                          \
	} while (0)
	memset(s, 0, sizeof(*s));
	for (int c = 0; c < 2; c++)
		for (size_t f = 0; f < NELEM(pic_fields); f++)
			GET(vmstate_get_u8, pic_name(c, f), (uint8_t *)&s->pic[c] + pic_fields[f].off);
	uint64_t v64 = 0;
	GET(vmstate_get_u64, "ioapic.base_address", &v64);
	s->ioapic.base_address = v64;
	GET(vmstate_get_u32, "ioapic.ioregsel", &s->ioapic.ioregsel);
	GET(vmstate_get_u32, "ioapic.id", &s->ioapic.id);
	GET(vmstate_get_u32, "ioapic.irr", &s->ioapic.irr);
	static char redir[IOAPIC_PINS][24];
	for (int i = 0; i < IOAPIC_PINS; i++) {
		snprintf(redir[i], sizeof(redir[i]), "ioapic.redir%d", i);
		v64 = 0;
		GET(vmstate_get_u64, redir[i], &v64);
		s->ioapic.redirtbl[i].bits = v64;
	}
	for (int ch = 0; ch < 3; ch++) {
		struct kvm_pit_channel_state *p = &s->pit.channels[ch];
		GET(vmstate_get_u32, pit_name(ch, "count"), &p->count);
		GET(vmstate_get_u16, pit_name(ch, "latched_count"), &p->latched_count);
		for (size_t f = 0; f < NELEM(pit_u8_fields); f++)
			GET(vmstate_get_u8, pit_name(ch, pit_u8_fields[f].name), (uint8_t *)p + pit_u8_fields[f].off);
		v64 = 0;
		GET(vmstate_get_u64, pit_name(ch, "count_load_time"), &v64);
		p->count_load_time = (int64_t)v64;
		/* The 8254's own ranges (KVM's reset leaves mode 0xff: never programmed). */
		if (r == 0 && (p->rw_mode > 3 || (p->mode > 5 && p->mode != 0xff) || p->read_state > 4 ||
			       p->write_state > 4)) {
			r = -EINVAL;
			bad = pit_name(ch, "mode");
		}
	}
	GET(vmstate_get_u32, "pit.flags", &s->pit.flags);
	GET(vmstate_get_u64, "clock", &s->clock);
#undef GET
	if (r < 0)
		return cap_errf(err, 0, "field %s: %s", bad, r == -ENOENT ? "missing" : "malformed");
	return 0;
}

int kvm_vm_state_apply(int vm_fd, const struct kvm_vm_saved *s, cap_err *err)
{
	for (int i = 0; i < 3; i++) {
		struct kvm_irqchip chip = { .chip_id = (uint32_t)i };
		if (i < 2)
			chip.chip.pic = s->pic[i];
		else
			chip.chip.ioapic = s->ioapic;
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return cap_errf(err, errno, "KVM_SET_IRQCHIP %d", i);
	}
	struct kvm_pit_state2 pit = s->pit;
	if (ioctl(vm_fd, KVM_SET_PIT2, &pit) < 0)
		return cap_errf(err, errno, "KVM_SET_PIT2");
	struct kvm_clock_data clk;
	memset(&clk, 0, sizeof(clk));
	clk.clock = s->clock;
	if (ioctl(vm_fd, KVM_SET_CLOCK, &clk) < 0)
		return cap_errf(err, errno, "KVM_SET_CLOCK");
	return 0;
}
