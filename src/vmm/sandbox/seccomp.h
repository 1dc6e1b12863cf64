/* Per-thread seccomp filters for the VMM. Every VMM thread kind (main, vCPU, I/O, ...) has its
 * own allow-list in seccomp_table.c; a thread installs its kind's filter itself, once its set-up
 * is done and before it runs anything the guest drives. The same table builds the filters and
 * prints them (`capsule vm seccomp-filters`), so what is shown is what is enforced. */
#ifndef CAPSULE_VMM_SANDBOX_SECCOMP_H
#define CAPSULE_VMM_SANDBOX_SECCOMP_H

#include <stdint.h>
#include <stdio.h>

#include "../../lib/error.h"

/* Built with AddressSanitizer (gcc: __SANITIZE_ADDRESS__, clang: __has_feature)? Its runtime
 * (ASan, LSan's leak check at exit, UBSan's reports) makes syscalls of its own on every thread;
 * only such a build adds them to the allow-lists (seccomp_table.c, SANITIZER_RULES). */
#if defined(__SANITIZE_ADDRESS__)
#define VMM_SECCOMP_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VMM_SECCOMP_SANITIZER_BUILD 1
#endif
#endif
#ifndef VMM_SECCOMP_SANITIZER_BUILD
#define VMM_SECCOMP_SANITIZER_BUILD 0
#endif

enum vmm_seccomp_mode {
	VMM_SECCOMP_DEFAULT,    /* a refused syscall kills the whole VMM (SECCOMP_RET_KILL_PROCESS) */
	VMM_SECCOMP_LOG,        /* refused syscalls are allowed and logged by the kernel (audit) */
	VMM_SECCOMP_NONE,       /* no filter */
};

/* One allowed value of a checked argument, with the name it is printed under. */
struct sc_value {
	uint64_t value;
	const char *name;
};

enum sc_check {
	SC_ANY,                 /* any arguments */
	SC_ARG_IN,              /* argument `arg` (masked to 32 bits for ioctl) is one of `values` */
	SC_ARG_CLEAR,           /* argument `arg` has none of the bits of values[0] set */
	SC_ARG_MASKED,          /* argument `arg` & values[0] == values[1] */
};

struct sc_rule {
	const char *syscall;    /* libseccomp's name for it */
	enum sc_check check;
	int arg;
	const struct sc_value *values;
	int nvalues;
	const char *why;        /* what needs it, for the printed table and docs/security.md */
};

struct vmm_thread_kind {
	const char *name;       /* vcpu, io, main, ... as --thread takes it */
	const char *what;       /* which threads run under it */
	const struct sc_rule *rules;
	int nrules;
};

/* The table (seccomp_table.c). */
extern const struct vmm_thread_kind vmm_thread_kinds[];
extern const int vmm_nthread_kinds;
const struct vmm_thread_kind *vmm_thread_kind_find(const char *name);

int vmm_seccomp_parse_mode(const char *s, enum vmm_seccomp_mode *mode, cap_err *err);
/* Process-wide: what vmm_seccomp_enter does from now on (set before the VMM's threads start;
 * NONE until set, so unit tests of devices and backends run unfiltered). */
void vmm_seccomp_set_mode(enum vmm_seccomp_mode mode);
enum vmm_seccomp_mode vmm_seccomp_get_mode(void);

/* The main thread stays unfiltered (why: "it serves the API"): it may have to do anything after
 * the boot (open and write snapshot files, re-open metrics). Set before the boot. */
void vmm_seccomp_exempt_main(const char *why);

/* Install the filter of thread kind `kind` on the calling thread (no-op in mode NONE). */
int vmm_seccomp_enter(const char *kind, cap_err *err);

/* Print the allow-list of one kind (or of every kind when kind is NULL). */
int vmm_seccomp_print(FILE *f, const char *kind, cap_err *err);

#endif
