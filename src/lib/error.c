#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cap_verrf(cap_err *err, int errnum, const char *fmt, va_list ap)
{
	int ret = errnum > 0 ? -errnum : -EINVAL;

	if (!err || err->set)
		return ret;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (errnum > 0 && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
	err->set = 1;
	err->errnum = errnum;
	if (!err->exit_code)
		err->exit_code = CAP_EXIT_ERROR;
	return ret;
}

int cap_errf(cap_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = cap_verrf(err, errnum, fmt, ap);
	va_end(ap);
	return r;
}

int cap_errf_code(cap_err *err, int exit_code, int errnum, const char *fmt, ...)
{
	va_list ap;
	int already = err && err->set;
	va_start(ap, fmt);
	int r = cap_verrf(err, errnum, fmt, ap);
	va_end(ap);
	if (err && !already)
		err->exit_code = exit_code;
	return r;
}

void cap_err_prefix(cap_err *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof(err->msg)];
	va_list ap;

	if (!err || !err->set)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable here: the message stays one readable line. */
	size_t n = strnlen(prefix, sizeof(prefix));
	if (n + 2 >= sizeof(err->msg))
		return;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t room = sizeof(err->msg) - n - 3;
	size_t olen = strnlen(old, room);
	memcpy(err->msg + n + 2, old, olen);
	err->msg[n + 2 + olen] = 0;
}

void cap_err_clear(cap_err *err)
{
	memset(err, 0, sizeof(*err));
}

int cap_err_report(const cap_err *err)
{
	if (!err->set) {
		fprintf(stderr, "capsule: failed without a message\n");
		return CAP_EXIT_ERROR;
	}
	fprintf(stderr, "capsule: %s\n", err->msg);
	return err->exit_code ? err->exit_code : CAP_EXIT_ERROR;
}
