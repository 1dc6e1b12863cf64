/* ACPI tables (ACPI 6.0 layouts) for Linux guests. Fixed-hardware model, not
 * HW_REDUCED_ACPI: under HW_REDUCED, x86 Linux replaces the 8259 with null_legacy_pic, so
 * ISA IRQs 0-15 get no IOAPIC mapping and the UART's IRQ 4 and the command-line virtio-mmio
 * IRQs stop working unless every device is described in the DSDT (what Firecracker and
 * Cloud Hypervisor do). A PM1a event/control block is four registers in acpi_pm.c and keeps
 * the legacy interrupt model every other device here relies on. See docs/acpi.md. */
#include "acpi.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../devices/acpi_pm.h"
#include "boot.h"
#include "layout.h"
#include "loader.h"

#define ACPI_OEM_TABLE_ID "CAPSULE "
#define ACPI_CREATOR_ID   "CAPS"

struct __attribute__((packed)) acpi_rsdp {
	char signature[8];        /* "RSD PTR " */
	uint8_t checksum;         /* first 20 bytes */
	char oem_id[6];
	uint8_t revision;         /* 2: ACPI 2.0+ with XSDT */
	uint32_t rsdt_address;
	uint32_t length;          /* 36 */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* all 36 bytes */
	uint8_t reserved[3];
};

struct __attribute__((packed)) acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
};

/* Generic Address Structure */
struct __attribute__((packed)) acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;      /* 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
};
#define ACPI_GAS_IO 1

struct __attribute__((packed)) acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat;
	uint16_t flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_revision;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
};

/* FADT fixed feature flags (ACPI 6.0, table 5-35) */
#define FADT_F_WBINVD        (1u << 0)
#define FADT_F_PROC_C1       (1u << 2)
#define FADT_F_PWR_BUTTON    (1u << 4)   /* set: no fixed-feature power button */
#define FADT_F_SLP_BUTTON    (1u << 5)   /* set: no fixed-feature sleep button */
#define FADT_F_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture flags (table 5-36) */
#define IAPC_VGA_NOT_PRESENT      (1u << 2)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

struct __attribute__((packed)) acpi_facs {
	char signature[4];        /* "FACS"; no checksum */
	uint32_t length;          /* 64 */
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
};

struct __attribute__((packed)) acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
};
#define MADT_PCAT_COMPAT 1u

struct __attribute__((packed)) madt_lapic {
	uint8_t type, length;     /* 0, 8 */
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;           /* bit 0: enabled */
};

struct __attribute__((packed)) madt_ioapic {
	uint8_t type, length;     /* 1, 12 */
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
};

struct __attribute__((packed)) madt_iso {
	uint8_t type, length;     /* 2, 10 */
	uint8_t bus;              /* 0: ISA */
	uint8_t source;           /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;           /* MPS INTI flags: polarity bits 0-1, trigger mode bits 2-3 */
};
#define MPS_INTI_ACTIVE_HIGH 0x1
#define MPS_INTI_LEVEL       (0x3 << 2)

#define FADT_CHECK(field, off) _Static_assert(offsetof(struct acpi_fadt, field) == (off), #field)
_Static_assert(sizeof(struct acpi_rsdp) == 36, "rsdp");
_Static_assert(sizeof(struct acpi_header) == 36, "sdt header");
_Static_assert(sizeof(struct acpi_gas) == 12, "gas");
FADT_CHECK(sci_int, 46);
FADT_CHECK(pm1a_evt_blk, 56);
FADT_CHECK(pm1_evt_len, 88);
FADT_CHECK(p_lvl2_lat, 96);
FADT_CHECK(iapc_boot_arch, 109);
FADT_CHECK(flags, 112);
FADT_CHECK(reset_reg, 116);
FADT_CHECK(reset_value, 128);
FADT_CHECK(minor_revision, 131);
FADT_CHECK(x_dsdt, 140);
FADT_CHECK(x_pm1a_evt_blk, 148);
FADT_CHECK(sleep_control_reg, 244);
FADT_CHECK(hypervisor_vendor_id, 268);
_Static_assert(sizeof(struct acpi_fadt) == 276, "fadt (ACPI 6.0)");
_Static_assert(sizeof(struct acpi_facs) == 64, "facs");
_Static_assert(sizeof(struct acpi_madt) == 44, "madt");
_Static_assert(sizeof(struct madt_lapic) == 8 && sizeof(struct madt_ioapic) == 12 &&
	       sizeof(struct madt_iso) == 10, "madt entries");
#undef FADT_CHECK

/* The DSDT body: one AML statement at the root scope,
 *     Name (_S5_, Package () { 5, 5, 0, 0 })
 * which tells the OS the SLP_TYP values for S5 (soft off): SLP_TYPa 5 (written to PM1a_CNT
 * bits 10-12), SLP_TYPb 5 (there is no PM1b block), two reserved entries.
 *   08           NameOp
 *   5F 53 35 5F  NameSeg "_S5_"
 *   12           PackageOp
 *   08           PkgLength: 8 bytes follow the PackageOp (this byte, NumElements, 6 data
 *                bytes); under 64 it fits the one-byte form (bits 7-6 = 0)
 *   04           NumElements
 *   0A 05        BytePrefix 5
 *   0A 05        BytePrefix 5
 *   00           ZeroOp
 *   00           ZeroOp */
static const uint8_t dsdt_aml[] = {
	0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x08, 0x04, 0x0A, ACPI_SLP_TYP_S5, 0x0A, ACPI_SLP_TYP_S5, 0x00, 0x00,
};

static void acpi_header_init(struct acpi_header *h, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

static struct acpi_gas io_gas(uint16_t port, uint8_t bytes)
{
	return (struct acpi_gas){ .space_id = ACPI_GAS_IO, .bit_width = (uint8_t)(bytes * 8), .bit_offset = 0,
				  .access_size = (uint8_t)(bytes >= 2 ? 2 : 1), .address = port };
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void fill_fadt(struct acpi_fadt *f, uint64_t facs, uint64_t dsdt)
{
	acpi_header_init(&f->h, "FACP", sizeof(*f), 6);
	/* The 32-bit FIRMWARE_CTRL and DSDT stay 0: the spec wants them 0 when the X_ fields are set. */
	f->x_firmware_ctrl = facs;
	f->x_dsdt = dsdt;
	f->sci_int = ACPI_SCI_IRQ;
	/* smi_cmd 0: the platform is always in ACPI mode, no SMI handshake (ACPI 2.0+). */
	f->pm1a_evt_blk = ACPI_PM_PORT + ACPI_PM1_EVT_OFF;
	f->pm1a_cnt_blk = ACPI_PM_PORT + ACPI_PM1_CNT_OFF;
	f->pm1_evt_len = ACPI_PM1_EVT_LEN;
	f->pm1_cnt_len = ACPI_PM1_CNT_LEN;
	f->x_pm1a_evt_blk = io_gas(ACPI_PM_PORT + ACPI_PM1_EVT_OFF, ACPI_PM1_EVT_LEN);
	f->x_pm1a_cnt_blk = io_gas(ACPI_PM_PORT + ACPI_PM1_CNT_OFF, ACPI_PM1_CNT_LEN);
	/* No PM timer and no GPE blocks (length 0 = absent): the guest uses kvmclock, and no
	 * device raises general-purpose events. */
	f->p_lvl2_lat = 101;   /* > 100: C2 not supported */
	f->p_lvl3_lat = 1001;  /* > 1000: C3 not supported */
	/* No "8042" flag: Linux then skips probing the i8042 (it is only there for the 0xFE
	 * reset, which Linux writes without the driver); no VGA and no CMOS RTC is the truth. */
	f->iapc_boot_arch = IAPC_VGA_NOT_PRESENT | IAPC_CMOS_RTC_NOT_PRESENT;
	f->flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP;
	f->reset_reg = io_gas(ACPI_PM_PORT + ACPI_PM_RESET_OFF, 1);
	f->reset_value = ACPI_PM_RESET_VALUE;
	f->minor_revision = 0;
	/* sleep_control_reg/sleep_status_reg are for HW_REDUCED platforms only: left zero. */
}

static void fill_madt(uint8_t *p, int ncpus)
{
	struct acpi_madt *madt = (struct acpi_madt *)p;
	size_t off = sizeof(*madt);

	madt->lapic_addr = (uint32_t)LAPIC_ADDR;
	/* KVM's in-kernel irqchip includes the two 8259s; an OS that reads this flag masks them. */
	madt->flags = MADT_PCAT_COMPAT;
	for (int i = 0; i < ncpus; i++) {
		struct madt_lapic l = { .type = 0, .length = sizeof(l), .processor_uid = (uint8_t)i,
					.apic_id = (uint8_t)i, .flags = 1 };
		memcpy(p + off, &l, sizeof(l));
		off += sizeof(l);
	}
	/* Same IOAPIC ID as the MP table (the one after the last CPU). */
	struct madt_ioapic io = { .type = 1, .length = sizeof(io), .ioapic_id = (uint8_t)ncpus,
				  .address = (uint32_t)IOAPIC_ADDR, .gsi_base = 0 };
	memcpy(p + off, &io, sizeof(io));
	off += sizeof(io);
	/* KVM routes ISA IRQ n to IOAPIC pin n, which is what an OS assumes without overrides,
	 * so the only override is the SCI's: ACPI's default for it is level/active-low, but
	 * the line (never raised) is active-high, and KVM's IOAPIC would see an undriven
	 * active-low line as asserted forever. */
	struct madt_iso iso = { .type = 2, .length = sizeof(iso), .bus = 0, .source = ACPI_SCI_IRQ,
				.gsi = ACPI_SCI_IRQ, .flags = MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL };
	memcpy(p + off, &iso, sizeof(iso));
	off += sizeof(iso);
	acpi_header_init(&madt->h, "APIC", (uint32_t)off, 3);
}

int acpi_write_tables(struct guest_mem *m, int ncpus, const struct acpi_mmio_device *devs, int ndevs,
		      cap_err *err)
{
	uint8_t dev_aml[ACPI_MAX_MMIO_DEVICES * 64 + 16];

	if (ncpus < 1 || ncpus > BOOT_MAX_CPUS)
		return cap_errf(err, EINVAL, "ACPI tables: %d vCPUs (1 to %d supported)", ncpus, BOOT_MAX_CPUS);
	size_t dev_len = aml_virtio_mmio_scope(dev_aml, sizeof(dev_aml), devs, ndevs);
	if (dev_len == (size_t)-1)
		return cap_errf(err, EINVAL, "ACPI tables: cannot describe %d virtio-mmio devices", ndevs);

	size_t madt_len = sizeof(struct acpi_madt) + (size_t)ncpus * sizeof(struct madt_lapic) +
			  sizeof(struct madt_ioapic) + sizeof(struct madt_iso);
	size_t xsdt_len = sizeof(struct acpi_header) + 2 * sizeof(uint64_t);
	size_t dsdt_len = sizeof(struct acpi_header) + sizeof(dsdt_aml) + dev_len;
	/* Offsets from ACPI_RSDP_ADDR; the FACS must be 64-byte aligned, the rest 16. */
	size_t o_xsdt = align_up(sizeof(struct acpi_rsdp), 16);
	size_t o_facs = align_up(o_xsdt + xsdt_len, 64);
	size_t o_fadt = align_up(o_facs + sizeof(struct acpi_facs), 16);
	size_t o_dsdt = align_up(o_fadt + sizeof(struct acpi_fadt), 16);
	size_t o_madt = align_up(o_dsdt + dsdt_len, 16);
	size_t total = o_madt + madt_len;
	if (ACPI_RSDP_ADDR + total > ACPI_AREA_END)
		return cap_errf(err, ENOSPC, "ACPI tables: %zu bytes do not fit below 1 MiB", total);

	uint8_t *buf = calloc(1, total);
	if (!buf)
		return cap_errf(err, ENOMEM, "ACPI tables");
	const uint64_t base = ACPI_RSDP_ADDR;

	struct acpi_rsdp *rsdp = (struct acpi_rsdp *)buf;
	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = base + o_xsdt;

	struct acpi_header *xsdt = (struct acpi_header *)(buf + o_xsdt);
	acpi_header_init(xsdt, "XSDT", (uint32_t)xsdt_len, 1);
	uint64_t entries[2] = { base + o_fadt, base + o_madt };
	memcpy(buf + o_xsdt + sizeof(*xsdt), entries, sizeof(entries));

	struct acpi_facs *facs = (struct acpi_facs *)(buf + o_facs);
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	fill_fadt((struct acpi_fadt *)(buf + o_fadt), base + o_facs, base + o_dsdt);

	struct acpi_header *dsdt = (struct acpi_header *)(buf + o_dsdt);
	acpi_header_init(dsdt, "DSDT", (uint32_t)dsdt_len, 2);
	memcpy(buf + o_dsdt + sizeof(*dsdt), dsdt_aml, sizeof(dsdt_aml));
	if (dev_len)
		memcpy(buf + o_dsdt + sizeof(*dsdt) + sizeof(dsdt_aml), dev_aml, dev_len);

	fill_madt(buf + o_madt, ncpus);

	/* Checksums last, once every byte of each table is final. */
	const size_t sdts[] = { o_xsdt, o_fadt, o_dsdt, o_madt };
	for (size_t i = 0; i < sizeof(sdts) / sizeof(sdts[0]); i++) {
		struct acpi_header *h = (struct acpi_header *)(buf + sdts[i]);
		h->checksum = boot_checksum(h, h->length);
	}
	rsdp->checksum = boot_checksum(rsdp, 20);
	rsdp->extended_checksum = boot_checksum(rsdp, sizeof(*rsdp));

	int r = guest_mem_write(m, base, buf, total);
	free(buf);
	if (r < 0)
		return cap_errf(err, -r, "ACPI tables: guest RAM does not cover 0x%llx-0x%llx",
				(unsigned long long)base, (unsigned long long)(base + total));
	return 0;
}
