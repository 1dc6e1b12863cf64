/* The Capsule test-guest runtime: what a test in guest/tests/ may call.
 *
 * A test defines guest_main() (run by vCPU 0; its return value is the VM's exit status) and may
 * define guest_ap_main() (run by every other vCPU; default: halt). The VMM starts every vCPU at
 * _start in long mode with the entry state documented in docs/test-guests.md.
 *
 * Ring 0 is emulated at roughly 1 M instructions/s on this machine's KVM, so everything here keeps
 * the ring-0 path short; long loops belong in ring 3 (rt_user_call). */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#define RT_MAX_CPUS 64		/* vCPUs beyond this are parked at entry (no stack for them) */
#define RT_KSTACK_SHIFT 13	/* 8 KiB ring-0 stack per vCPU */
#define RT_USTACK_SHIFT 12
#define RT_USTACK_SIZE (1 << RT_USTACK_SHIFT)	/* ring-3 stack per vCPU */

/* Guest exit statuses the runtime itself uses; 1 to 5 belong to the VMM. */
#define RT_EXIT_FAIL 11		/* a test's own check failed */
#define RT_EXIT_EXCEPTION 12	/* an unexpected CPU exception */

/* Segment selectors of the runtime's GDT. 0x10/0x18 match the VMM's entry GDT so nothing needs
 * reloading when ours replaces it. */
#define RT_KERNEL_CS 0x10
#define RT_KERNEL_DS 0x18
#define RT_USER_CS (0x20 | 3)
#define RT_USER_DS (0x28 | 3)
#define RT_TSS_SEL 0x30


#ifndef __ASSEMBLER__
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Implemented by the test. */
int guest_main(void);
void guest_ap_main(unsigned cpu);	/* weak default: halt */

/* Boot information handed over by the VMM (RDI/RDX/RSI at entry). */
unsigned rt_cpu_id(void);
unsigned rt_ncpus(void);
const uint8_t *rt_boot_params(void);
/* Each vCPU's RSP at entry, and its RFLAGS there except the arithmetic flags (CF PF AF ZF SF OF). */
extern uint64_t rt_entry_rsp[RT_MAX_CPUS], rt_entry_rflags[RT_MAX_CPUS];
#define RT_RFLAGS_ARITH 0x8d5

/* The kernel command line (--cmdline), so one guest can be steered per test. Words are separated
 * by spaces; rt_cmdline_flag(w) is true when w appears as a word, rt_cmdline_num(k, def) is the
 * number (decimal or 0x hex) in the word "k=N", def when absent or malformed. */
const char *rt_cmdline(void);
int rt_cmdline_flag(const char *word);
uint64_t rt_cmdline_num(const char *key, uint64_t def);

/* ACPI: the RSDP (boot_params.acpi_rsdp_addr, else a scan of 0xe0000-0xfffff) and a table by its
 * signature ("DSDT" through the FADT); NULL when absent. */
const uint8_t *rt_acpi_rsdp(void);
const uint8_t *rt_acpi_table(const char *sig);

/* Output on COM1. */
void rt_putc(char c);
void rt_puts(const char *s);
int rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int rt_vprintf(const char *fmt, va_list ap);

/* Ending the VM. */
__attribute__((noreturn)) void rt_exit(uint32_t status);	/* outl to the exit port */
__attribute__((noreturn)) void rt_exit8(uint8_t status);	/* the same with outb */
__attribute__((noreturn)) void rt_halt(void);
void rt_boot_timer_poke(void);

/* Ring 3: runs fn(arg) at CPL 3 on this vCPU's user stack and returns its result at CPL 0.
 * fn may not do I/O (IOPL is 0) or privileged instructions; a fault there ends the VM with
 * RT_EXIT_EXCEPTION after printing what happened. */
typedef long (*rt_user_fn)(long arg);
long rt_user_call(rt_user_fn fn, long arg);
unsigned rt_cpl(void);

/* SMP helpers. */
static inline uint32_t rt_atomic_inc(volatile uint32_t *p)
{
	return __atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST) + 1;
}

static inline uint32_t rt_atomic_load(volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void rt_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Spins (call it in ring 3: it is a long loop) until *p >= want or spins run out; returns the
 * last value seen. */
uint32_t rt_wait_at_least(volatile uint32_t *p, uint32_t want, uint64_t spins);

/* Check-in barrier for "every vCPU arrived" tests: each vCPU calls rt_smp_checkin() once; vCPU 0
 * then calls rt_smp_wait_all(), which spins in ring 3 (bounded, about a second or more of pauses)
 * and returns how many vCPUs had checked in, rt_ncpus() when all did. */
#define RT_SMP_SPINS (1ULL << 28)
void rt_smp_checkin(void);
unsigned rt_smp_wait_all(void);

static inline void rt_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

/* Freestanding compilers may emit calls to these. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/* Little-endian loads from unaligned table bytes (ACPI, boot_params). */
static inline uint32_t rt_rd32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t rt_rd64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}
size_t strlen(const char *s);
int memcmp(const void *a, const void *b, size_t n);

#endif /* __ASSEMBLER__ */
#endif
