/* Checks the entry state the contract promises, on every vCPU: selectors, GDT/IDT, CR0/CR3/CR4,
 * EFER, RFLAGS, RSP and the registers carrying index, count and zero page. Prints one line per vCPU
 * ("entry: cpu N ok" or the fields that differ) and exits 0 only if every vCPU matched. */
#include "rt.h"

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static uint32_t bad[RT_MAX_CPUS];	/* bit per failed check */
static const char *const names[] = {
	"cs", "ds", "es", "ss", "fs", "gs", "gdt base", "idt limit", "cr0", "cr3", "cr4", "efer",
	"rflags", "rsp", "rsi (zero page)", "rdx (vCPU count)",
};

static unsigned sel(int which)
{
	uint16_t v = 0;

	switch (which) {
	case 0: __asm__ volatile("mov %%cs, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%ss, %0" : "=r"(v)); break;
	case 4: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
	case 5: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
	}
	return v;
}

static void check(unsigned cpu)
{
	uint64_t cr0, cr3, cr4;
	uint32_t lo, hi, b = 0;
	struct dtr gdt, idt;
	int i;

	for (i = 0; i < 6; i++)
		if (sel(i) != (i == 0 ? RT_KERNEL_CS : RT_KERNEL_DS))
			b |= 1u << i;
	__asm__ volatile("sgdt %0" : "=m"(gdt));
	__asm__ volatile("sidt %0" : "=m"(idt));
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
	if (gdt.base != 0x500)
		b |= 1u << 6;
	if (idt.limit != 0)
		b |= 1u << 7;
	if ((cr0 & (CR0_PE | CR0_ET | CR0_NE | CR0_PG)) != (CR0_PE | CR0_ET | CR0_NE | CR0_PG))
		b |= 1u << 8;
	if (cr3 != 0x9000)
		b |= 1u << 9;
	if (!(cr4 & CR4_PAE))
		b |= 1u << 10;
	if ((lo & (EFER_LME | EFER_LMA)) != (EFER_LME | EFER_LMA))
		b |= 1u << 11;
	if ((rt_entry_rflags[cpu] & ~(uint64_t)RT_RFLAGS_ARITH) != 0x2)
		b |= 1u << 12;
	if (rt_entry_rsp[cpu] != 0x8ff0)
		b |= 1u << 13;
	if ((uintptr_t)rt_boot_params() != 0x7000)
		b |= 1u << 14;
	if (rt_ncpus() == 0)
		b |= 1u << 15;
	bad[cpu] = b;
	if (cpu == 0)
		rt_printf("entry: cr0 %#lx cr3 %#lx cr4 %#lx efer %#x rflags %#lx rsp %#lx\n", cr0, cr3, cr4,
			  lo, rt_entry_rflags[0], rt_entry_rsp[0]);
}

void guest_ap_main(unsigned cpu)
{
	check(cpu);
	rt_smp_checkin();
}

int guest_main(void)
{
	unsigned n = rt_ncpus(), seen, cpu, i, failed = 0;

	check(0);
	rt_smp_checkin();
	seen = rt_smp_wait_all();
	for (cpu = 0; cpu < seen && cpu < RT_MAX_CPUS; cpu++) {
		if (!bad[cpu]) {
			rt_printf("entry: cpu %u ok\n", cpu);
			continue;
		}
		failed++;
		rt_printf("entry: cpu %u wrong:", cpu);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (bad[cpu] & (1u << i))
				rt_printf(" %s", names[i]);
		rt_puts("\n");
	}
	if (seen != n) {
		rt_printf("entry: only %u of %u vCPUs checked in\n", seen, n);
		return RT_EXIT_FAIL;
	}
	return failed ? RT_EXIT_FAIL : 0;
}
