/* Runtime entry (after entry.S has switched stacks), exit, boot timer and small helpers. */
#include "io.h"
#include "rt.h"

#define EXIT_PORT 0xf4
#define BOOT_TIMER_ADDR 0xd0000000UL
#define BOOT_TIMER_MAGIC 123

/* Written by every vCPU with the same values, read after. */
static const uint8_t *boot_params;
static unsigned ncpus;

void rt_main(unsigned cpu, const uint8_t *zero_page, unsigned n) __attribute__((noreturn));
void rt_main(unsigned cpu, const uint8_t *zero_page, unsigned n)
{
	boot_params = zero_page;
	ncpus = n;
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

void rt_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

void rt_boot_timer_poke(void)
{
	mmio_write8(BOOT_TIMER_ADDR, BOOT_TIMER_MAGIC);
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

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
