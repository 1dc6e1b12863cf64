#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum cap_log_level current = CAP_LOG_WARN;

void cap_log_set_level(enum cap_log_level level) { current = level; }
enum cap_log_level cap_log_get_level(void) { return current; }

void cap_log_init_from_env(void)
{
	const char *v = getenv("CAPSULE_LOG");
	if (!v)
		return;
	if (!strcmp(v, "debug"))
		current = CAP_LOG_DEBUG;
	else if (!strcmp(v, "info"))
		current = CAP_LOG_INFO;
	else if (!strcmp(v, "warn"))
		current = CAP_LOG_WARN;
	else if (!strcmp(v, "error"))
		current = CAP_LOG_ERROR;
}

void cap_log(enum cap_log_level level, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warning", "error" };
	char buf[1024];
	va_list ap;

	if (level < current || level >= CAP_LOG_QUIET)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write so lines from vCPU threads do not interleave mid-line. */
	fprintf(stderr, "capsule: %s: %s\n", names[level], buf);
}
