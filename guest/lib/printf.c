/* COM1 output and a minimal printf: %c %s %d %i %u %x %p %%, with l/ll/z, '#', '0' and a width.
 * Output goes straight to the UART, one port write per byte, under a spinlock when SMP. */
#include "io.h"
#include "rt.h"

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20

static volatile uint32_t out_lock;

void rt_putc(char c)
{
	unsigned spins = 100000;

	/* Bounded: a UART that never reports THRE must not hang the guest. */
	while (!(inb(COM1_LSR) & LSR_THRE) && --spins)
		;
	outb(COM1, (uint8_t)c);
}

void rt_puts(const char *s)
{
	while (*s)
		rt_putc(*s++);
}

static void put_num(unsigned long long v, unsigned base, int neg, int width, char pad,
		    const char *prefix)
{
	char buf[24];
	int n = 0, len;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	len = n + neg + (int)strlen(prefix);
	if (pad == ' ')
		for (; width > len; width--)
			rt_putc(' ');
	if (neg)
		rt_putc('-');
	rt_puts(prefix);
	for (; width > len; width--)
		rt_putc('0');
	while (n)
		rt_putc(buf[--n]);
}

static void lock(void)
{
	if (rt_ncpus() > 1)
		while (__atomic_exchange_n(&out_lock, 1, __ATOMIC_ACQUIRE))
			rt_pause();
}

static void unlock(void)
{
	if (rt_ncpus() > 1)
		__atomic_store_n(&out_lock, 0, __ATOMIC_RELEASE);
}

int rt_vprintf(const char *fmt, va_list ap)
{
	lock();
	for (; *fmt; fmt++) {
		int lng = 0, alt = 0, width = 0;
		char pad = ' ';
		unsigned long long u;
		long long s;
		const char *str;

		if (*fmt != '%') {
			rt_putc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '#')
			alt = 1, fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z')
			lng++, fmt++;
		switch (*fmt) {
		case 'c':
			rt_putc((char)va_arg(ap, int));
			break;
		case 's':
			str = va_arg(ap, const char *);
			rt_puts(str ? str : "(null)");
			break;
		case 'd':
		case 'i':
			s = lng ? va_arg(ap, long long) : va_arg(ap, int);
			put_num(s < 0 ? -(unsigned long long)s : (unsigned long long)s, 10, s < 0,
				width, pad, "");
			break;
		case 'u':
		case 'x':
			u = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
			put_num(u, *fmt == 'u' ? 10 : 16, 0, width, pad, alt && *fmt == 'x' ? "0x" : "");
			break;
		case 'p':
			put_num((uintptr_t)va_arg(ap, void *), 16, 0, width, pad, "0x");
			break;
		case '%':
			rt_putc('%');
			break;
		default:	/* unknown conversion: show it rather than guess */
			rt_putc('%');
			if (!*fmt)
				goto out;
			rt_putc(*fmt);
		}
	}
out:
	unlock();
	return 0;
}

int rt_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rt_vprintf(fmt, ap);
	va_end(ap);
	return 0;
}
