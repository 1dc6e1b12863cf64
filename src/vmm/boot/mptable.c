/* Intel MultiProcessor Specification 1.4 tables: how Linux without ACPI learns the CPUs, the
 * IOAPIC and the ISA interrupt wiring. The floating pointer sits at the start of the EBDA
 * (Linux scans 0x9FC00..0xA0000); the configuration table follows it in the reserved area. */
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "layout.h"
#include "loader.h"

#define MP_LAPIC_VERSION 0x14  /* integrated local APIC */
#define MP_IOAPIC_VERSION 0x11 /* what KVM's in-kernel IOAPIC reports */
#define MP_CPU_EN 1
#define MP_CPU_BP 2
#define MP_CPU_SIGNATURE 0x600 /* family 6: only informative, Linux reads CPUID */
#define MP_CPU_FEATURES 0x201  /* FPU | APIC */
#define MP_ISA_IRQS 16

enum { MP_PROC = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_INTSRC = 3, MP_LINTSRC = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

struct __attribute__((packed)) mpf_intel {
	char signature[4];
	uint32_t physptr;
	uint8_t length;
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
};

struct __attribute__((packed)) mpc_table {
	char signature[4];
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
};

struct __attribute__((packed)) mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature_sig;
	uint32_t featureflag;
	uint32_t reserved[2];
};

struct __attribute__((packed)) mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
};

struct __attribute__((packed)) mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
};

struct __attribute__((packed)) mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
};

_Static_assert(sizeof(struct mpf_intel) == 16, "mpf");
_Static_assert(sizeof(struct mpc_table) == 44, "mpc");
_Static_assert(sizeof(struct mpc_cpu) == 20, "cpu");
_Static_assert(sizeof(struct mpc_bus) == 8, "bus");
_Static_assert(sizeof(struct mpc_ioapic) == 8, "ioapic");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "intsrc");

size_t mptable_size(int ncpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) + (size_t)ncpus * sizeof(struct mpc_cpu) +
	       sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) + (MP_ISA_IRQS + 2) * sizeof(struct mpc_intsrc);
}

int mptable_write(struct guest_mem *m, int ncpus)
{
	if (ncpus < 1 || ncpus > BOOT_MAX_CPUS)
		return -EINVAL;
	size_t size = mptable_size(ncpus);
	if (size > BOOT_MPTABLE_END - BOOT_MPTABLE_ADDR)
		return -ENOSPC;
	uint8_t *base = guest_mem_ptr(m, BOOT_MPTABLE_ADDR, size);
	if (!base)
		return -EFAULT;
	memset(base, 0, size);

	struct mpf_intel mpf = { .signature = "_MP_", .length = 1, .specification = 4 };
	mpf.physptr = (uint32_t)(BOOT_MPTABLE_ADDR + sizeof(mpf));
	mpf.checksum = boot_checksum(&mpf, sizeof(mpf));
	memcpy(base, &mpf, sizeof(mpf));

	uint8_t *tab = base + sizeof(mpf);
	uint8_t *p = tab + sizeof(struct mpc_table);
	uint16_t count = 0;
	uint8_t ioapic_id = (uint8_t)ncpus;

#define EMIT(v) (memcpy(p, &(v), sizeof(v)), p += sizeof(v), count++)
	for (int i = 0; i < ncpus; i++) {
		struct mpc_cpu c = {
			.type = MP_PROC, .apicid = (uint8_t)i, .apicver = MP_LAPIC_VERSION,
			.cpuflag = MP_CPU_EN | (i == 0 ? MP_CPU_BP : 0),
			.cpufeature_sig = MP_CPU_SIGNATURE, .featureflag = MP_CPU_FEATURES,
		};
		EMIT(c);
	}
	struct mpc_bus bus = { .type = MP_BUS, .busid = 0 };
	memcpy(bus.bustype, "ISA   ", 6);
	EMIT(bus);
	struct mpc_ioapic io = { .type = MP_IOAPIC, .apicid = ioapic_id, .apicver = MP_IOAPIC_VERSION, .flags = 1,
				 .apicaddr = (uint32_t)IOAPIC_ADDR };
	EMIT(io);
	/* KVM's default routing wires ISA IRQ n to IOAPIC pin n (and the PIC): say exactly that. */
	for (int irq = 0; irq < MP_ISA_IRQS; irq++) {
		struct mpc_intsrc s = { .type = MP_INTSRC, .irqtype = MP_INT, .srcbus = 0, .srcbusirq = (uint8_t)irq,
					.dstapic = ioapic_id, .dstirq = (uint8_t)irq };
		EMIT(s);
	}
	/* Virtual-wire mode: the PIC's output reaches the BSP's LINT0, NMIs go to every LINT1. */
	struct mpc_intsrc ext = { .type = MP_LINTSRC, .irqtype = MP_EXTINT, .srcbus = 0, .dstapic = 0, .dstirq = 0 };
	EMIT(ext);
	struct mpc_intsrc nmi = { .type = MP_LINTSRC, .irqtype = MP_NMI, .srcbus = 0, .dstapic = 0xff, .dstirq = 1 };
	EMIT(nmi);
#undef EMIT

	struct mpc_table h = { .signature = "PCMP", .spec = 4, .lapic = (uint32_t)LAPIC_ADDR };
	memcpy(h.oem, "CAPSULE ", 8);
	memcpy(h.productid, "CAPSULE VM  ", 12);
	h.length = (uint16_t)(p - tab);
	h.oemcount = count;
	memcpy(tab, &h, sizeof(h));
	tab[offsetof(struct mpc_table, checksum)] = boot_checksum(tab, h.length);
	return 0;
}
