/* Per-vCPU descriptor tables, exceptions and the ring-3 round trip.
 * Each vCPU gets its own GDT and TSS (a TSS is marked busy by ltr, so two vCPUs cannot share one;
 * its RSP0 is where exceptions from ring 3 land); the IDT is shared. Ring 3 comes back through a
 * deliberate #UD (see entry.S for why not int $0x80 or syscall). All of it is built lazily, on a
 * vCPU's first rt_user_call, so guests that never leave ring 0 pay nothing for it in the slow
 * emulated ring 0. */
#include "rt.h"

#define KSTACK_SIZE (1 << RT_KSTACK_SHIFT)
#define USTACK_SIZE RT_USTACK_SIZE

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint16_t flags;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
};

struct percpu {
	uint64_t gdt[8];
	struct tss tss;
	int ready;
} __attribute__((aligned(64)));

/* The VMM's memory is zero already: none of these needs clearing. */
uint8_t rt_kstacks[RT_MAX_CPUS][KSTACK_SIZE] __attribute__((aligned(4096)));
static uint8_t ustacks[RT_MAX_CPUS][USTACK_SIZE] __attribute__((aligned(4096)));
static struct percpu percpu[RT_MAX_CPUS];
static struct idt_gate idt[256] __attribute__((aligned(16)));

extern char rt_isr_stubs[];
extern char __image_start[], __image_end[];
long rt_user_enter(rt_user_fn fn, long arg, void *rsp0, void *ustack_top);

struct exc_frame {
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

static void set_gate(unsigned vec, void *handler, unsigned dpl)
{
	uintptr_t a = (uintptr_t)handler;

	idt[vec] = (struct idt_gate){
		.off_lo = a & 0xffff,
		.sel = RT_KERNEL_CS,
		.flags = 0x8e00 | (dpl << 13),	/* present, 64-bit interrupt gate */
		.off_mid = (a >> 16) & 0xffff,
		.off_hi = a >> 32,
	};
}

/* Ring 3 needs the U/S bit at every level of the walk; the VMM's tables are supervisor-only. Only
 * the 2 MiB entries covering this image (code, data, stacks) are opened up. */
static void open_image_to_user(void)
{
	uint64_t cr3, *pml4, *pdpt, *pd;
	uintptr_t a;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(cr3 & ~0xfffULL);
	pml4[0] |= 4;
	pdpt = (uint64_t *)(pml4[0] & 0x000ffffffffff000ULL);
	pdpt[0] |= 4;
	pd = (uint64_t *)(pdpt[0] & 0x000ffffffffff000ULL);
	for (a = (uintptr_t)__image_start & ~0x1fffffULL; a < (uintptr_t)__image_end; a += 0x200000)
		pd[a >> 21] |= 4;
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

static void cpu_init(unsigned cpu)
{
	struct percpu *p = &percpu[cpu];
	uintptr_t t = (uintptr_t)&p->tss;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(p->gdt) - 1, (uintptr_t)p->gdt },
	  idtr = { sizeof(idt) - 1, (uintptr_t)idt };
	unsigned v;

	p->gdt[0] = 0;
	p->gdt[1] = 0;
	p->gdt[2] = 0x00af9a000000ffffULL;	/* 0x10 kernel code, 64-bit */
	p->gdt[3] = 0x00cf92000000ffffULL;	/* 0x18 kernel data */
	p->gdt[4] = 0x00affa000000ffffULL;	/* 0x20 user code, 64-bit, DPL 3 */
	p->gdt[5] = 0x00cff2000000ffffULL;	/* 0x28 user data, DPL 3 */
	p->gdt[6] = (sizeof(p->tss) - 1) | ((t & 0xffffff) << 16) | (0x89ULL << 40) |
		    (((t >> 24) & 0xff) << 56);	/* 0x30 available 64-bit TSS */
	p->gdt[7] = t >> 32;
	p->tss.iomap_base = sizeof(p->tss);	/* no I/O bitmap: ring 3 gets no ports */

	/* Every vCPU writes the same IDT contents; a concurrent writer only rewrites equal values. */
	for (v = 0; v < 32; v++)
		set_gate(v, rt_isr_stubs + 16 * v, 0);

	open_image_to_user();
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	__asm__ volatile("ltr %w0" : : "r"(RT_TSS_SEL));
	__asm__ volatile("lidt %0" : : "m"(idtr));
	p->ready = 1;
}

long rt_user_call(rt_user_fn fn, long arg)
{
	unsigned cpu = rt_cpu_id();

	if (!percpu[cpu].ready)
		cpu_init(cpu);
	return rt_user_enter(fn, arg, (uint8_t *)&percpu[cpu].tss + 4, ustacks[cpu + 1]);
}

unsigned rt_cpl(void)
{
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

/* Only reachable in ring 0, or from ring 3 through RSP0: the kernel stack tells which vCPU. */
unsigned rt_cpu_id(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

	return (sp - (uintptr_t)rt_kstacks) / KSTACK_SIZE;
}

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "?", "#TS", "#NP", "#SS",
	"#GP", "#PF", "?", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void rt_exception(struct exc_frame *f);
void rt_exception(struct exc_frame *f)
{
	uint64_t cr2;
	const char *name = f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "?";

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	rt_printf("exception %lu %s on cpu %u: error %#lx rip %#lx cs %#lx rsp %#lx cr2 %#lx\n",
		  f->vector, name, rt_cpu_id(), f->error, f->rip, f->cs, f->rsp, cr2);
	rt_exit(RT_EXIT_EXCEPTION);
}
