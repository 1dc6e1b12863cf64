/* A vCPU's state in and out of KVM and the snapshot (vcpu_state.h). Fields are named after the
 * register; the tables inside byte fields (MSRs, XCRs, CPUID) are packed little-endian. */
#include "vcpu_state.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "snapshot_file.h"

#define MSR_ENTRY_SIZE 12	/* u32 index, u64 value */
#define XCR_ENTRY_SIZE 12	/* u32 xcr, u64 value */
#define CPUID_ENTRY_SIZE 28	/* function, index, flags, eax, ebx, ecx, edx: u32 each */
#define XSAVE_LEGACY_SIZE 4096	/* struct kvm_xsave's region[] */

void vcpu_saved_free(struct vcpu_saved *s)
{
	free(s->xsave);
	free(s->msrs);
	free(s->cpuid);
	memset(s, 0, sizeof(*s));
}

struct u64_field {
	const char *name;
	size_t off;
};

#define R(x) { #x, offsetof(struct kvm_regs, x) }
static const struct u64_field regs_fields[] = {
	R(rax), R(rbx), R(rcx), R(rdx), R(rsi), R(rdi), R(rsp), R(rbp), R(r8), R(r9), R(r10),
	R(r11), R(r12), R(r13), R(r14), R(r15), R(rip), R(rflags),
};
#undef R
#define S(x) { #x, offsetof(struct kvm_sregs, x) }
static const struct u64_field sregs_fields[] = {
	S(cr0), S(cr2), S(cr3), S(cr4), S(cr8), S(efer), S(apic_base),
};
#undef S
static const struct {
	const char *name;
	size_t off;
} seg_fields[] = {
	{ "cs", offsetof(struct kvm_sregs, cs) }, { "ds", offsetof(struct kvm_sregs, ds) },
	{ "es", offsetof(struct kvm_sregs, es) }, { "fs", offsetof(struct kvm_sregs, fs) },
	{ "gs", offsetof(struct kvm_sregs, gs) }, { "ss", offsetof(struct kvm_sregs, ss) },
	{ "tr", offsetof(struct kvm_sregs, tr) }, { "ldt", offsetof(struct kvm_sregs, ldt) },
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint32_t seg_attr(const struct kvm_segment *s)
{
	return (uint32_t)(s->type & 0xf) | (uint32_t)(s->s & 1) << 4 | (uint32_t)(s->dpl & 3) << 5 |
	       (uint32_t)(s->present & 1) << 7 | (uint32_t)(s->avl & 1) << 8 | (uint32_t)(s->l & 1) << 9 |
	       (uint32_t)(s->db & 1) << 10 | (uint32_t)(s->g & 1) << 11 | (uint32_t)(s->unusable & 1) << 16;
}

static void seg_from_attr(struct kvm_segment *s, uint32_t a)
{
	s->type = a & 0xf;
	s->s = (a >> 4) & 1;
	s->dpl = (a >> 5) & 3;
	s->present = (a >> 7) & 1;
	s->avl = (a >> 8) & 1;
	s->l = (a >> 9) & 1;
	s->db = (a >> 10) & 1;
	s->g = (a >> 11) & 1;
	s->unusable = (a >> 16) & 1;
}

/* ---- reading from KVM ---- */

static int read_msrs(int kvm_fd, int fd, struct vcpu_saved *s, cap_err *err)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return cap_errf(err, errno, "KVM_GET_MSR_INDEX_LIST");
	uint32_t n = probe.nmsrs;
	if (n > VCPU_STATE_MAX_MSRS)
		n = VCPU_STATE_MAX_MSRS;
	struct kvm_msr_list *list = calloc(1, sizeof(*list) + n * sizeof(uint32_t));
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
	s->msrs = calloc(n ? n : 1, sizeof(*s->msrs));
	int r = 0;
	if (!list || !m || !s->msrs) {
		r = cap_errf(err, ENOMEM, "MSR list");
		goto out;
	}
	list->nmsrs = n;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		r = cap_errf(err, errno, "KVM_GET_MSR_INDEX_LIST");
		goto out;
	}
	n = list->nmsrs < n ? list->nmsrs : n;
	/* KVM_GET_MSRS stops at the first MSR it cannot read: keep what it read, skip that one. */
	for (uint32_t i = 0; i < n;) {
		uint32_t k = 0;
		for (uint32_t j = i; j < n; j++)
			m->entries[k++] = (struct kvm_msr_entry){ .index = list->indices[j] };
		m->nmsrs = k;
		int got = ioctl(fd, KVM_GET_MSRS, m);
		if (got < 0) {
			r = cap_errf(err, errno, "KVM_GET_MSRS");
			goto out;
		}
		for (int j = 0; j < got; j++)
			s->msrs[s->nmsrs++] = m->entries[j];
		i += (uint32_t)got + 1;
	}
out:
	free(list);
	free(m);
	return r;
}

static int read_cpuid(int fd, struct vcpu_saved *s, cap_err *err)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + VCPU_STATE_MAX_CPUID * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return cap_errf(err, ENOMEM, "CPUID");
	c->nent = VCPU_STATE_MAX_CPUID;
	int r = 0;
	if (ioctl(fd, KVM_GET_CPUID2, c) < 0) {
		r = cap_errf(err, errno, "KVM_GET_CPUID2");
		goto out;
	}
	s->cpuid = calloc(c->nent ? c->nent : 1, sizeof(*s->cpuid));
	if (!s->cpuid) {
		r = cap_errf(err, ENOMEM, "CPUID");
		goto out;
	}
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		s->cpuid[i] = (struct vcpu_cpuid_entry){ e->function, e->index, e->flags, e->eax, e->ebx, e->ecx, e->edx };
	}
	s->ncpuid = c->nent;
out:
	free(c);
	return r;
}

/* KVM's XSAVE buffer size: KVM_CAP_XSAVE2 reports it when larger than the legacy 4 KiB. */
static uint32_t xsave_size(int vm_fd)
{
	int sz = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	return sz > XSAVE_LEGACY_SIZE && sz <= (int)VCPU_STATE_XSAVE_MAX ? (uint32_t)sz : XSAVE_LEGACY_SIZE;
}

int vcpu_state_read(int kvm_fd, int vm_fd, int fd, struct vcpu_saved *s, cap_err *err)
{
	memset(s, 0, sizeof(*s));
	if (ioctl(fd, KVM_GET_REGS, &s->regs) < 0)
		return cap_errf(err, errno, "KVM_GET_REGS");
	if (ioctl(fd, KVM_GET_SREGS, &s->sregs) < 0)
		return cap_errf(err, errno, "KVM_GET_SREGS");
	if (ioctl(fd, KVM_GET_FPU, &s->fpu) < 0)
		return cap_errf(err, errno, "KVM_GET_FPU");
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0) {
		uint32_t sz = xsave_size(vm_fd);
		s->xsave = calloc(1, sz);
		if (!s->xsave)
			return cap_errf(err, ENOMEM, "XSAVE area");
		if (ioctl(fd, sz > XSAVE_LEGACY_SIZE ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, s->xsave) < 0)
			return cap_errf(err, errno, "KVM_GET_XSAVE");
		s->xsave_len = sz;
	}
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0) {
		struct kvm_xcrs x;
		memset(&x, 0, sizeof(x));
		if (ioctl(fd, KVM_GET_XCRS, &x) < 0)
			return cap_errf(err, errno, "KVM_GET_XCRS");
		s->nxcrs = x.nr_xcrs < KVM_MAX_XCRS ? x.nr_xcrs : KVM_MAX_XCRS;
		memcpy(s->xcrs, x.xcrs, sizeof(s->xcrs));
	}
	int r = read_msrs(kvm_fd, fd, s, err);
	if (r < 0)
		return r;
	if (ioctl(fd, KVM_GET_DEBUGREGS, &s->debugregs) < 0)
		return cap_errf(err, errno, "KVM_GET_DEBUGREGS");
	if (ioctl(fd, KVM_GET_LAPIC, &s->lapic) < 0)
		return cap_errf(err, errno, "KVM_GET_LAPIC");
	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &s->events) < 0)
		return cap_errf(err, errno, "KVM_GET_VCPU_EVENTS");
	if (ioctl(fd, KVM_GET_MP_STATE, &s->mp) < 0)
		return cap_errf(err, errno, "KVM_GET_MP_STATE");
	return read_cpuid(fd, s, err);
}

/* ---- encoding ---- */

int vcpu_state_encode(const struct vcpu_saved *s, struct vmstate_out *out)
{
	char name[VMSTATE_NAME_MAX + 1];
	for (size_t i = 0; i < NELEM(regs_fields); i++) {
		uint64_t v;
		memcpy(&v, (const uint8_t *)&s->regs + regs_fields[i].off, 8);
		vmstate_put_u64(out, regs_fields[i].name, v);
	}
	for (size_t i = 0; i < NELEM(sregs_fields); i++) {
		uint64_t v;
		memcpy(&v, (const uint8_t *)&s->sregs + sregs_fields[i].off, 8);
		vmstate_put_u64(out, sregs_fields[i].name, v);
	}
	for (size_t i = 0; i < NELEM(seg_fields); i++) {
		const struct kvm_segment *seg = (const void *)((const uint8_t *)&s->sregs + seg_fields[i].off);
		snprintf(name, sizeof(name), "%s.base", seg_fields[i].name);
		vmstate_put_u64(out, name, seg->base);
		snprintf(name, sizeof(name), "%s.limit", seg_fields[i].name);
		vmstate_put_u32(out, name, seg->limit);
		snprintf(name, sizeof(name), "%s.selector", seg_fields[i].name);
		vmstate_put_u16(out, name, seg->selector);
		snprintf(name, sizeof(name), "%s.attr", seg_fields[i].name);
		vmstate_put_u32(out, name, seg_attr(seg));
	}
	vmstate_put_u64(out, "gdt.base", s->sregs.gdt.base);
	vmstate_put_u16(out, "gdt.limit", s->sregs.gdt.limit);
	vmstate_put_u64(out, "idt.base", s->sregs.idt.base);
	vmstate_put_u16(out, "idt.limit", s->sregs.idt.limit);
	for (size_t i = 0; i < NELEM(s->sregs.interrupt_bitmap); i++) {
		snprintf(name, sizeof(name), "interrupt_bitmap%zu", i);
		vmstate_put_u64(out, name, s->sregs.interrupt_bitmap[i]);
	}

	vmstate_put_bytes(out, "fpu.fpr", s->fpu.fpr, sizeof(s->fpu.fpr));
	vmstate_put_u16(out, "fpu.fcw", s->fpu.fcw);
	vmstate_put_u16(out, "fpu.fsw", s->fpu.fsw);
	vmstate_put_u8(out, "fpu.ftwx", s->fpu.ftwx);
	vmstate_put_u16(out, "fpu.last_opcode", s->fpu.last_opcode);
	vmstate_put_u64(out, "fpu.last_ip", s->fpu.last_ip);
	vmstate_put_u64(out, "fpu.last_dp", s->fpu.last_dp);
	vmstate_put_bytes(out, "fpu.xmm", s->fpu.xmm, sizeof(s->fpu.xmm));
	vmstate_put_u32(out, "fpu.mxcsr", s->fpu.mxcsr);
	if (s->xsave_len)
		vmstate_put_bytes(out, "xsave", s->xsave, s->xsave_len);

	uint8_t xb[KVM_MAX_XCRS * XCR_ENTRY_SIZE];
	for (uint32_t i = 0; i < s->nxcrs; i++) {
		snap_put_le32(xb + i * XCR_ENTRY_SIZE, s->xcrs[i].xcr);
		snap_put_le64(xb + i * XCR_ENTRY_SIZE + 4, s->xcrs[i].value);
	}
	vmstate_put_bytes(out, "xcrs", xb, s->nxcrs * XCR_ENTRY_SIZE);

	uint8_t *mb = malloc((size_t)s->nmsrs * MSR_ENTRY_SIZE + 1);
	if (!mb)
		return vmstate_put_bytes(out, "msrs", NULL, SIZE_MAX); /* makes the error sticky */
	for (uint32_t i = 0; i < s->nmsrs; i++) {
		snap_put_le32(mb + i * MSR_ENTRY_SIZE, s->msrs[i].index);
		snap_put_le64(mb + i * MSR_ENTRY_SIZE + 4, s->msrs[i].data);
	}
	vmstate_put_bytes(out, "msrs", mb, (size_t)s->nmsrs * MSR_ENTRY_SIZE);
	free(mb);

	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "dr%d", i);
		vmstate_put_u64(out, name, s->debugregs.db[i]);
	}
	vmstate_put_u64(out, "dr6", s->debugregs.dr6);
	vmstate_put_u64(out, "dr7", s->debugregs.dr7);
	vmstate_put_bytes(out, "lapic", s->lapic.regs, sizeof(s->lapic.regs));

	const struct kvm_vcpu_events *e = &s->events;
	vmstate_put_u8(out, "exception.injected", e->exception.injected);
	vmstate_put_u8(out, "exception.nr", e->exception.nr);
	vmstate_put_u8(out, "exception.has_error_code", e->exception.has_error_code);
	vmstate_put_u8(out, "exception.pending", e->exception.pending);
	vmstate_put_u32(out, "exception.error_code", e->exception.error_code);
	vmstate_put_u8(out, "exception.has_payload", e->exception_has_payload);
	vmstate_put_u64(out, "exception.payload", e->exception_payload);
	vmstate_put_u8(out, "interrupt.injected", e->interrupt.injected);
	vmstate_put_u8(out, "interrupt.nr", e->interrupt.nr);
	vmstate_put_u8(out, "interrupt.soft", e->interrupt.soft);
	vmstate_put_u8(out, "interrupt.shadow", e->interrupt.shadow);
	vmstate_put_u8(out, "nmi.injected", e->nmi.injected);
	vmstate_put_u8(out, "nmi.pending", e->nmi.pending);
	vmstate_put_u8(out, "nmi.masked", e->nmi.masked);
	vmstate_put_u32(out, "sipi_vector", e->sipi_vector);
	vmstate_put_u32(out, "events.flags", e->flags);
	vmstate_put_u8(out, "smi.smm", e->smi.smm);
	vmstate_put_u8(out, "smi.pending", e->smi.pending);
	vmstate_put_u8(out, "smi.smm_inside_nmi", e->smi.smm_inside_nmi);
	vmstate_put_u8(out, "smi.latched_init", e->smi.latched_init);
	vmstate_put_u32(out, "mp_state", s->mp.mp_state);

	uint8_t *cb = malloc((size_t)s->ncpuid * CPUID_ENTRY_SIZE + 1);
	if (!cb)
		return vmstate_put_bytes(out, "cpuid", NULL, SIZE_MAX);
	for (uint32_t i = 0; i < s->ncpuid; i++) {
		const uint32_t w[7] = { s->cpuid[i].function, s->cpuid[i].index, s->cpuid[i].flags, s->cpuid[i].eax,
					s->cpuid[i].ebx, s->cpuid[i].ecx, s->cpuid[i].edx };
		for (int j = 0; j < 7; j++)
			snap_put_le32(cb + i * CPUID_ENTRY_SIZE + 4 * j, w[j]);
	}
	int r = vmstate_put_bytes(out, "cpuid", cb, (size_t)s->ncpuid * CPUID_ENTRY_SIZE);
	free(cb);
	return r;
}

/* ---- decoding ---- */

struct dec {
	const struct vmstate_in *in;
	const char *bad;	/* the first field that was missing or malformed */
	int r;
};

static void note(struct dec *d, const char *name, int r)
{
	if (r < 0 && !d->r) {
		d->r = r;
		d->bad = name;
	}
}
static void g8(struct dec *d, const char *name, uint8_t *v) { note(d, name, vmstate_get_u8(d->in, name, v)); }
static void g16(struct dec *d, const char *name, uint16_t *v) { note(d, name, vmstate_get_u16(d->in, name, v)); }
static void g32(struct dec *d, const char *name, uint32_t *v) { note(d, name, vmstate_get_u32(d->in, name, v)); }
static void g64(struct dec *d, const char *name, uint64_t *v) { note(d, name, vmstate_get_u64(d->in, name, v)); }
/* KVM's __u64 is unsigned long long, uint64_t may be unsigned long */
static void gu64(struct dec *d, const char *name, __u64 *v)
{
	uint64_t t = 0;
	g64(d, name, &t);
	*v = t;
}
static void gbytes_exact(struct dec *d, const char *name, void *dst, size_t want)
{
	size_t len = 0;
	int r = vmstate_get_bytes(d->in, name, dst, want, &len);
	if (r == 0 && len != want)
		r = -EINVAL;
	note(d, name, r);
}

/* A byte field holding a table of entries of esize bytes, at most max of them: malloc'd copy. */
static uint8_t *gtable(struct dec *d, const char *name, size_t esize, size_t max, uint32_t *n)
{
	size_t cap = esize * max, len = 0;
	uint8_t *b = malloc(cap);
	if (!b) {
		note(d, name, -ENOMEM);
		return NULL;
	}
	int r = vmstate_get_bytes(d->in, name, b, cap, &len);
	if (r == 0 && len % esize)
		r = -EINVAL;
	note(d, name, r);
	if (r < 0) {
		free(b);
		return NULL;
	}
	*n = (uint32_t)(len / esize);
	return b;
}

int vcpu_state_decode(const struct vmstate_in *in, struct vcpu_saved *s, cap_err *err)
{
	struct dec d = { .in = in };
	char name[VMSTATE_NAME_MAX + 1];
	static char segname[NELEM(seg_fields)][4][24];

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < NELEM(regs_fields); i++) {
		uint64_t v = 0;
		g64(&d, regs_fields[i].name, &v);
		memcpy((uint8_t *)&s->regs + regs_fields[i].off, &v, 8);
	}
	for (size_t i = 0; i < NELEM(sregs_fields); i++) {
		uint64_t v = 0;
		g64(&d, sregs_fields[i].name, &v);
		memcpy((uint8_t *)&s->sregs + sregs_fields[i].off, &v, 8);
	}
	for (size_t i = 0; i < NELEM(seg_fields); i++) {
		struct kvm_segment *seg = (void *)((uint8_t *)&s->sregs + seg_fields[i].off);
		uint32_t attr = 0;
		/* names outlive this call: d.bad may point at one */
		snprintf(segname[i][0], sizeof(segname[i][0]), "%s.base", seg_fields[i].name);
		snprintf(segname[i][1], sizeof(segname[i][1]), "%s.limit", seg_fields[i].name);
		snprintf(segname[i][2], sizeof(segname[i][2]), "%s.selector", seg_fields[i].name);
		snprintf(segname[i][3], sizeof(segname[i][3]), "%s.attr", seg_fields[i].name);
		gu64(&d, segname[i][0], &seg->base);
		g32(&d, segname[i][1], &seg->limit);
		g16(&d, segname[i][2], &seg->selector);
		g32(&d, segname[i][3], &attr);
		seg_from_attr(seg, attr);
	}
	gu64(&d, "gdt.base", &s->sregs.gdt.base);
	g16(&d, "gdt.limit", &s->sregs.gdt.limit);
	gu64(&d, "idt.base", &s->sregs.idt.base);
	g16(&d, "idt.limit", &s->sregs.idt.limit);
	static const char *const ib[] = { "interrupt_bitmap0", "interrupt_bitmap1", "interrupt_bitmap2",
					  "interrupt_bitmap3" };
	for (size_t i = 0; i < NELEM(s->sregs.interrupt_bitmap) && i < NELEM(ib); i++)
		gu64(&d, ib[i], &s->sregs.interrupt_bitmap[i]);

	gbytes_exact(&d, "fpu.fpr", s->fpu.fpr, sizeof(s->fpu.fpr));
	g16(&d, "fpu.fcw", &s->fpu.fcw);
	g16(&d, "fpu.fsw", &s->fpu.fsw);
	g8(&d, "fpu.ftwx", &s->fpu.ftwx);
	g16(&d, "fpu.last_opcode", &s->fpu.last_opcode);
	gu64(&d, "fpu.last_ip", &s->fpu.last_ip);
	gu64(&d, "fpu.last_dp", &s->fpu.last_dp);
	gbytes_exact(&d, "fpu.xmm", s->fpu.xmm, sizeof(s->fpu.xmm));
	g32(&d, "fpu.mxcsr", &s->fpu.mxcsr);

	uint32_t n = 0;
	if (!d.r) {
		/* optional: a host without XSAVE writes none */
		uint8_t *x = malloc(VCPU_STATE_XSAVE_MAX);
		size_t len = 0;
		int r = x ? vmstate_get_bytes(in, "xsave", x, VCPU_STATE_XSAVE_MAX, &len) : -ENOMEM;
		if (r == 0 && len < 576) /* the legacy area and the XSAVE header */
			r = -EINVAL;
		if (r == 0) {
			s->xsave = x;
			s->xsave_len = (uint32_t)len;
		} else {
			free(x);
			if (r != -ENOENT)
				note(&d, "xsave", r);
		}
	}
	uint8_t *t = gtable(&d, "xcrs", XCR_ENTRY_SIZE, KVM_MAX_XCRS, &n);
	if (t) {
		s->nxcrs = n;
		for (uint32_t i = 0; i < n; i++) {
			s->xcrs[i].xcr = snap_le32(t + i * XCR_ENTRY_SIZE);
			s->xcrs[i].value = snap_le64(t + i * XCR_ENTRY_SIZE + 4);
		}
		free(t);
	}
	t = gtable(&d, "msrs", MSR_ENTRY_SIZE, VCPU_STATE_MAX_MSRS, &n);
	if (t) {
		s->msrs = calloc(n ? n : 1, sizeof(*s->msrs));
		if (!s->msrs)
			note(&d, "msrs", -ENOMEM);
		for (uint32_t i = 0; s->msrs && i < n; i++) {
			s->msrs[i].index = snap_le32(t + i * MSR_ENTRY_SIZE);
			s->msrs[i].data = snap_le64(t + i * MSR_ENTRY_SIZE + 4);
		}
		s->nmsrs = s->msrs ? n : 0;
		free(t);
	}
	static const char *const dr[] = { "dr0", "dr1", "dr2", "dr3" };
	for (int i = 0; i < 4; i++)
		gu64(&d, dr[i], &s->debugregs.db[i]);
	gu64(&d, "dr6", &s->debugregs.dr6);
	gu64(&d, "dr7", &s->debugregs.dr7);
	gbytes_exact(&d, "lapic", s->lapic.regs, sizeof(s->lapic.regs));

	struct kvm_vcpu_events *e = &s->events;
	g8(&d, "exception.injected", &e->exception.injected);
	g8(&d, "exception.nr", &e->exception.nr);
	g8(&d, "exception.has_error_code", &e->exception.has_error_code);
	g8(&d, "exception.pending", &e->exception.pending);
	g32(&d, "exception.error_code", &e->exception.error_code);
	g8(&d, "exception.has_payload", &e->exception_has_payload);
	gu64(&d, "exception.payload", &e->exception_payload);
	g8(&d, "interrupt.injected", &e->interrupt.injected);
	g8(&d, "interrupt.nr", &e->interrupt.nr);
	g8(&d, "interrupt.soft", &e->interrupt.soft);
	g8(&d, "interrupt.shadow", &e->interrupt.shadow);
	g8(&d, "nmi.injected", &e->nmi.injected);
	g8(&d, "nmi.pending", &e->nmi.pending);
	g8(&d, "nmi.masked", &e->nmi.masked);
	g32(&d, "sipi_vector", &e->sipi_vector);
	g32(&d, "events.flags", &e->flags);
	g8(&d, "smi.smm", &e->smi.smm);
	g8(&d, "smi.pending", &e->smi.pending);
	g8(&d, "smi.smm_inside_nmi", &e->smi.smm_inside_nmi);
	g8(&d, "smi.latched_init", &e->smi.latched_init);
	g32(&d, "mp_state", &s->mp.mp_state);

	t = gtable(&d, "cpuid", CPUID_ENTRY_SIZE, VCPU_STATE_MAX_CPUID, &n);
	if (t) {
		s->cpuid = calloc(n ? n : 1, sizeof(*s->cpuid));
		if (!s->cpuid)
			note(&d, "cpuid", -ENOMEM);
		for (uint32_t i = 0; s->cpuid && i < n; i++) {
			uint32_t w[7];
			for (int j = 0; j < 7; j++)
				w[j] = snap_le32(t + i * CPUID_ENTRY_SIZE + 4 * j);
			s->cpuid[i] = (struct vcpu_cpuid_entry){ w[0], w[1], w[2], w[3], w[4], w[5], w[6] };
		}
		s->ncpuid = s->cpuid ? n : 0;
		free(t);
	}
	if (d.r == 0 && s->ncpuid == 0)
		note(&d, "cpuid", -EINVAL);
	(void)name;
	if (d.r < 0) {
		int r = cap_errf(err, 0, "field %s: %s", d.bad,
				 d.r == -ENOENT ? "missing" : d.r == -ENOMEM ? "out of memory" : "malformed");
		vcpu_saved_free(s);
		return r;
	}
	return 0;
}

/* ---- into KVM ---- */

int vcpu_state_apply(int vm_fd, int fd, const struct vcpu_saved *s, cap_err *err)
{
	int r = 0;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + s->ncpuid * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return cap_errf(err, ENOMEM, "CPUID");
	c->nent = s->ncpuid;
	for (uint32_t i = 0; i < s->ncpuid; i++)
		c->entries[i] = (struct kvm_cpuid_entry2){ .function = s->cpuid[i].function, .index = s->cpuid[i].index,
							   .flags = s->cpuid[i].flags, .eax = s->cpuid[i].eax,
							   .ebx = s->cpuid[i].ebx, .ecx = s->cpuid[i].ecx,
							   .edx = s->cpuid[i].edx };
	r = ioctl(fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0)
		return cap_errf(err, errno, "KVM_SET_CPUID2");
	if (ioctl(fd, KVM_SET_SREGS, &s->sregs) < 0)
		return cap_errf(err, errno, "KVM_SET_SREGS");

	if (ioctl(fd, KVM_SET_REGS, &s->regs) < 0)
		return cap_errf(err, errno, "KVM_SET_REGS");
	if (ioctl(fd, KVM_SET_FPU, &s->fpu) < 0)
		return cap_errf(err, errno, "KVM_SET_FPU");
	if (s->xsave_len) {
		if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) <= 0)
			return cap_errf(err, 0, "the snapshot has XSAVE state and this host's KVM has no XSAVE");
		uint32_t host = xsave_size(vm_fd);
		if (s->xsave_len > host)
			return cap_errf(err, 0, "XSAVE area of %u bytes, larger than this host's %u", s->xsave_len, host);
		uint8_t *x = calloc(1, host);
		if (!x)
			return cap_errf(err, ENOMEM, "XSAVE area");
		memcpy(x, s->xsave, s->xsave_len);
		r = ioctl(fd, KVM_SET_XSAVE, x);
		free(x);
		if (r < 0)
			return cap_errf(err, errno, "KVM_SET_XSAVE");
	}
	if (s->nxcrs) {
		struct kvm_xcrs x;
		memset(&x, 0, sizeof(x));
		x.nr_xcrs = s->nxcrs;
		memcpy(x.xcrs, s->xcrs, sizeof(x.xcrs));
		if (ioctl(fd, KVM_SET_XCRS, &x) < 0)
			return cap_errf(err, errno, "KVM_SET_XCRS");
	}
	struct kvm_debugregs dbg = s->debugregs;
	dbg.flags = 0; /* KVM refuses any flag on set */
	if (ioctl(fd, KVM_SET_DEBUGREGS, &dbg) < 0)
		return cap_errf(err, errno, "KVM_SET_DEBUGREGS");
	if (ioctl(fd, KVM_SET_LAPIC, &s->lapic) < 0)
		return cap_errf(err, errno, "KVM_SET_LAPIC");
	/* MSRs after the LAPIC: KVM drops a TSC_DEADLINE write while the LAPIC timer is not in
	 * TSC-deadline mode, and a guest whose next timer interrupt was lost never wakes again. */
	struct kvm_msrs *m = calloc(1, sizeof(*m) + s->nmsrs * sizeof(struct kvm_msr_entry));
	if (!m)
		return cap_errf(err, ENOMEM, "MSRs");
	m->nmsrs = s->nmsrs;
	memcpy(m->entries, s->msrs, s->nmsrs * sizeof(struct kvm_msr_entry));
	int set = ioctl(fd, KVM_SET_MSRS, m);
	free(m);
	if (set < 0)
		return cap_errf(err, errno, "KVM_SET_MSRS");
	if ((uint32_t)set < s->nmsrs)
		return cap_errf(err, 0, "MSR 0x%x: this host's KVM refuses the saved value 0x%llx", s->msrs[set].index,
				(unsigned long long)s->msrs[set].data);

	if (ioctl(fd, KVM_SET_MP_STATE, &s->mp) < 0)
		return cap_errf(err, errno, "KVM_SET_MP_STATE");
	struct kvm_vcpu_events ev = s->events;
	/* Only what KVM takes without extra capabilities; the payload needs KVM_CAP_EXCEPTION_PAYLOAD. */
	ev.flags &= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR | KVM_VCPUEVENT_VALID_SHADOW |
		    KVM_VCPUEVENT_VALID_SMM;
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	if (ioctl(fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return cap_errf(err, errno, "KVM_SET_VCPU_EVENTS");
	return 0;
}
