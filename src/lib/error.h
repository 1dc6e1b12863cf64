/* Capsule's one error convention (modelled on crun's libcrun_error_t).
 *
 * Functions return 0 on success or a negative errno. When the failure is one a
 * user must see, the function also fills a cap_err with one sentence naming the
 * thing and the reason. main() prints it once as "capsule: <msg>" and exits
 * with the code stored in the error (CAP_EXIT_ERROR unless set otherwise).
 */
#ifndef CAPSULE_LIB_ERROR_H
#define CAPSULE_LIB_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

/* Documented exit codes of the capsule binary (see docs/exit-codes.md). */
enum {
	CAP_EXIT_OK = 0,
	CAP_EXIT_ERROR = 1,        /* capsule could not do what was asked */
	CAP_EXIT_USAGE = 2,        /* bad command line */
	CAP_EXIT_GUEST_PANIC = 3,  /* the guest kernel panicked */
	CAP_EXIT_GUEST_FAULT = 4,  /* a vCPU stopped on an error (emulation failure, bad exit) */
	CAP_EXIT_CONSOLE_QUIT = 5, /* the user ended the VM from its console (Ctrl-A x) */
	CAP_EXIT_SIGNAL = 128,     /* + signal number, when capsule was told to stop */
};

typedef struct cap_err {
	int set;          /* non-zero once a message is stored */
	int errnum;       /* errno behind the failure, 0 if none */
	int exit_code;    /* what main() exits with */
	char msg[1024];
} cap_err;

/* Store "<fmt...>: <strerror(errnum)>" (or just "<fmt...>" when errnum is 0).
 * Returns -errnum, or -EINVAL when errnum is 0, so callers can `return cap_errf(...)`.
 * The first message stored wins: an outer caller does not overwrite the root cause. */
int cap_errf(cap_err *err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cap_verrf(cap_err *err, int errnum, const char *fmt, va_list ap);

/* Same, with an explicit exit code (e.g. CAP_EXIT_USAGE). */
int cap_errf_code(cap_err *err, int exit_code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefix the stored message with "<fmt...>: " to add context on the way up. */
void cap_err_prefix(cap_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void cap_err_clear(cap_err *err);

/* Print "capsule: <msg>" to stderr; returns the exit code to use. */
int cap_err_report(const cap_err *err);

#endif
