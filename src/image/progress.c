#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

void progress_init(struct progress *p)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO) == 1;
}

static double mb(unsigned long long n)
{
	return (double)n / 1e6;
}

void progress_step(struct progress *p, const char *what, unsigned long long done, unsigned long long size,
		   bool final)
{
	if (!p || !p->on)
		return;
	if (p->counts)
		p->total = p->step_start + done;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ms = (now.tv_sec - p->last.tv_sec) * 1000LL + (now.tv_nsec - p->last.tv_nsec) / 1000000;
	if (!final && p->shown && ms < 100)
		return;
	p->last = now;
	if (size)
		fprintf(stderr, "\r\033[K%.60s: %.1f / %.1f MB, total %.1f MB", what, mb(done), mb(size), mb(p->total));
	else
		fprintf(stderr, "\r\033[K%.60s: %.1f MB, total %.1f MB", what, mb(done), mb(p->total));
	p->shown = true;
}

void progress_next(struct progress *p, bool counts)
{
	if (p) {
		p->step_start = p->total;
		p->counts = counts;
	}
}

void progress_end(struct progress *p)
{
	if (p && p->on && p->shown)
		fprintf(stderr, "\r\033[K");
	if (p)
		p->shown = false;
}

void progress_label(char *buf, size_t sz, const char *verb, const char *name)
{
	const char *b = strrchr(name, '/');
	b = b ? b + 1 : name;
	if (!strncmp(b, "sha256:", 7))
		b += 7;
	snprintf(buf, sz, "%s %.12s%s", verb, b, strlen(b) > 12 ? ".." : "");
}
