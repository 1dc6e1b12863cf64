/* Runtime entry (after entry.S has switched stacks), exit, boot timer and small helpers. */
#include "io.h"
#include "rt.h"

#define EXIT_PORT 0xf4
#define BOOT_TIMER_ADDR 0xd0000000UL
#define BOOT_TIMER_MAGIC 123
#define BP_CMD_LINE_PTR 0x228
#define CMDLINE_MAX 4096

/* Written by every vCPU with the same values, read after. */
static const uint8_t *boot_params;
static unsigned ncpus;

uint64_t rt_entry_rsp[RT_MAX_CPUS], rt_entry_rflags[RT_MAX_CPUS];

void rt_main(unsigned cpu, const uint8_t *zero_page, unsigned n, uint64_t rsp, uint64_t rflags)
	__attribute__((noreturn));
void rt_main(unsigned cpu, const uint8_t *zero_page, unsigned n, uint64_t rsp, uint64_t rflags)
{
	boot_params = zero_page;
	ncpus = n;
	rt_entry_rsp[cpu] = rsp;
	rt_entry_rflags[cpu] = rflags;
	if (cpu == 0)
		rt_exit(guest_main());
	guest_ap_main(cpu);
	rt_halt();
}

__attribute__((weak)) void guest_ap_main(unsigned cpu)
{
	(void)cpu;
}

unsigned rt_ncpus(void)
{
	return ncpus;
}

const uint8_t *rt_boot_params(void)
{
	return boot_params;
}

void rt_exit(uint32_t status)
{
	outl(EXIT_PORT, status);
	rt_halt();	/* the VMM should not come back; if it does, stay put */
}

void rt_exit8(uint8_t status)
{
	outb(EXIT_PORT, status);
	rt_halt();
}

void rt_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

void rt_boot_timer_poke(void)
{
	mmio_write8(BOOT_TIMER_ADDR, BOOT_TIMER_MAGIC);
}

const char *rt_cmdline(void)
{
	uint32_t p;

	memcpy(&p, boot_params + BP_CMD_LINE_PTR, sizeof(p));
	return p ? (const char *)(uintptr_t)p : "";
}

/* The word starting with prefix (and ending right after it, or at '=' when eq), or NULL. */
static const char *find_word(const char *prefix, int eq)
{
	const char *s = rt_cmdline();
	size_t n = strlen(prefix), i = 0;

	while (i < CMDLINE_MAX && s[i]) {
		size_t j;

		while (s[i] == ' ')
			i++;
		for (j = 0; j < n && s[i + j] == prefix[j]; j++)
			;
		if (j == n && (eq ? s[i + n] == '=' : (s[i + n] == ' ' || !s[i + n])))
			return s + i + n + eq;
		while (s[i] && s[i] != ' ')
			i++;
	}
	return NULL;
}

int rt_cmdline_flag(const char *word)
{
	return find_word(word, 0) != NULL;
}

uint64_t rt_cmdline_num(const char *key, uint64_t def)
{
	const char *v = find_word(key, 1);
	uint64_t n = 0, base = 10;
	int digits = 0;

	if (!v)
		return def;
	if (v[0] == '0' && v[1] == 'x')
		base = 16, v += 2;
	for (; *v && *v != ' '; v++, digits++) {
		unsigned d;

		if (*v >= '0' && *v <= '9')
			d = *v - '0';
		else if (base == 16 && *v >= 'a' && *v <= 'f')
			d = *v - 'a' + 10;
		else
			return def;
		n = n * base + d;
	}
	return digits ? n : def;
}

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *p = a, *q = b;

	for (; n--; p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
