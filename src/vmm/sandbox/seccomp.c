/* Building, installing and printing the per-thread filters of seccomp_table.c (libseccomp). */
#include "seccomp.h"

#include "../../lib/log.h"

#include <errno.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static enum vmm_seccomp_mode current_mode = VMM_SECCOMP_NONE;

int vmm_seccomp_parse_mode(const char *s, enum vmm_seccomp_mode *mode, cap_err *err)
{
	if (!strcmp(s, "default"))
		*mode = VMM_SECCOMP_DEFAULT;
	else if (!strcmp(s, "log"))
		*mode = VMM_SECCOMP_LOG;
	else if (!strcmp(s, "none"))
		*mode = VMM_SECCOMP_NONE;
	else
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "seccomp mode '%s': want default, log or none", s);
	return 0;
}

void vmm_seccomp_set_mode(enum vmm_seccomp_mode mode)
{
	__atomic_store_n(&current_mode, mode, __ATOMIC_RELEASE);
}

enum vmm_seccomp_mode vmm_seccomp_get_mode(void)
{
	return __atomic_load_n(&current_mode, __ATOMIC_ACQUIRE);
}

static int add_rule(scmp_filter_ctx ctx, int nr, const struct sc_rule *r)
{
	int rc = 0;
	switch (r->check) {
	case SC_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case SC_ARG_IN:
		/* ioctl's request is an unsigned int in the kernel: compare its low 32 bits only. */
		for (int i = 0; i < r->nvalues && rc == 0; i++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					      SCMP_CMP((unsigned)r->arg, SCMP_CMP_MASKED_EQ,
						       !strcmp(r->syscall, "ioctl") ? 0xffffffffULL : ~0ULL,
						       r->values[i].value));
		return rc;
	case SC_ARG_CLEAR:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_CMP((unsigned)r->arg, SCMP_CMP_MASKED_EQ, r->values[0].value, 0));
	case SC_ARG_MASKED:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_CMP((unsigned)r->arg, SCMP_CMP_MASKED_EQ, r->values[0].value, r->values[1].value));
	}
	return -EINVAL;
}

static int unknown_kind(const char *kind, cap_err *err)
{
	char names[256] = "";
	for (int i = 0; i < vmm_nthread_kinds; i++) {
		if (i)
			strncat(names, ", ", sizeof(names) - strlen(names) - 1);
		strncat(names, vmm_thread_kinds[i].name, sizeof(names) - strlen(names) - 1);
	}
	return cap_errf_code(err, CAP_EXIT_USAGE, 0, "seccomp thread kind '%s': unknown (kinds: %s)", kind, names);
}

#ifdef CAPSULE_TEST_HOOKS
/* Test builds only ($(B)/tests/capsule-hooks): CAPSULE_TEST_SECCOMP_VIOLATE=KIND makes the
 * first thread of KIND open an AF_INET socket, which no filter allows (the I/O thread's socket
 * rule admits AF_UNIX only; none of the sanitizer runtimes' calls is a socket), right after
 * installing its filter. In log mode the call goes through and the socket is closed. */
static void test_violate(const char *kind)
{
	const char *want = getenv("CAPSULE_TEST_SECCOMP_VIOLATE");
	static int done;
	if (want && !strcmp(want, kind) && !__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL)) {
		long fd = syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
		if (fd >= 0)
			close((int)fd);
	}
}

#if VMM_SECCOMP_SANITIZER_BUILD
/* CAPSULE_TEST_SANITIZER_FAULT=KIND: the first thread of KIND overruns a heap block once its
 * filter is on, so that the test sees ASan's whole report (not a SIGSYS half-way through it). */
static void test_sanitizer_fault(const char *kind)
{
	const char *want = getenv("CAPSULE_TEST_SANITIZER_FAULT");
	static int done;
	if (want && !strcmp(want, kind) && !__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL)) {
		volatile char *p = malloc(8);
		p[8] = 1;
		free((void *)p);
	}
}
#endif
#endif

#if VMM_SECCOMP_SANITIZER_BUILD
#include <sanitizer/common_interface_defs.h>
/* Once, before the first filter: the sanitizer runtime caches /proc/self/maps and starts its
 * symbolizer process (symbolizing one address does) while it still may fork and open files,
 * so that a report from a filtered thread is whole instead of a SIGSYS half-way through. */
static void prepare_sanitizer(void)
{
	static int done;
	char buf[256];
	if (!__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL)) {
		__sanitizer_symbolize_pc((void *)(uintptr_t)prepare_sanitizer, "%F", buf, sizeof(buf));
		__sanitizer_sandbox_on_notify(NULL);
	}
}
#endif

/* Once, before the first filter: what libraries would otherwise do lazily, behind a syscall the
 * filters refuse. jansson seeds its hash tables from /dev/urandom when the first JSON object is
 * made (the API's first response after the boot, say). */
static void prepare_process(void)
{
	static int done;
	if (!__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		json_object_seed(0);
}

static const char *main_exempt;

void vmm_seccomp_exempt_main(const char *why)
{
	main_exempt = why;
}

int vmm_seccomp_enter(const char *kind, cap_err *err)
{
	enum vmm_seccomp_mode mode = vmm_seccomp_get_mode();
	const struct vmm_thread_kind *k = vmm_thread_kind_find(kind);
	if (!k)
		return unknown_kind(kind, err);
	if (mode == VMM_SECCOMP_NONE)
		return 0;
	if (main_exempt && !strcmp(kind, "main")) {
		cap_debug("seccomp: the main thread runs unfiltered: %s", main_exempt);
		return 0;
	}
	prepare_process();
#if VMM_SECCOMP_SANITIZER_BUILD
	prepare_sanitizer();
#endif

	scmp_filter_ctx ctx = seccomp_init(mode == VMM_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return cap_errf(err, ENOMEM, "seccomp filter for thread kind %s", kind);
	int rc = 0;
	for (int i = 0; i < k->nrules && rc == 0; i++) {
		const struct sc_rule *r = &k->rules[i];
		int nr = seccomp_syscall_resolve_name(r->syscall);
		if (nr == __NR_SCMP_ERROR) {
			seccomp_release(ctx);
			return cap_errf(err, EINVAL, "seccomp filter %s: unknown syscall %s", kind, r->syscall);
		}
		if (nr < 0)
			continue; /* not a syscall on this architecture */
		if ((rc = add_rule(ctx, nr, r)) < 0) {
			seccomp_release(ctx);
			return cap_errf(err, -rc, "seccomp filter %s: rule for %s", kind, r->syscall);
		}
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return cap_errf(err, -rc, "seccomp filter %s: loading it", kind);
#ifdef CAPSULE_TEST_HOOKS
	test_violate(kind);
#if VMM_SECCOMP_SANITIZER_BUILD
	test_sanitizer_fault(kind);
#endif
#endif
	return 0;
}

static void print_kind(FILE *f, const struct vmm_thread_kind *k)
{
	fprintf(f, "thread %s: %s\n", k->name, k->what);
	for (int i = 0; i < k->nrules; i++) {
		const struct sc_rule *r = &k->rules[i];
		fprintf(f, "  %-16s", r->syscall);
		if (r->check == SC_ARG_IN) {
			fprintf(f, " arg%d in {", r->arg);
			for (int j = 0; j < r->nvalues; j++)
				fprintf(f, "%s%s", j ? ", " : "", r->values[j].name);
			fprintf(f, "}");
		} else if (r->check == SC_ARG_CLEAR) {
			fprintf(f, " arg%d without %s", r->arg, r->values[0].name);
		} else if (r->check == SC_ARG_MASKED) {
			fprintf(f, " arg%d & (%s) == %s", r->arg, r->values[0].name, r->values[1].name);
		}
		fprintf(f, "  # %s\n", r->why);
	}
	fprintf(f, "  (anything else: the VMM is killed with SIGSYS)\n");
}

int vmm_seccomp_print(FILE *f, const char *kind, cap_err *err)
{
	if (kind) {
		const struct vmm_thread_kind *k = vmm_thread_kind_find(kind);
		if (!k)
			return unknown_kind(kind, err);
		print_kind(f, k);
		return 0;
	}
	for (int i = 0; i < vmm_nthread_kinds; i++) {
		if (i)
			fputc('\n', f);
		print_kind(f, &vmm_thread_kinds[i]);
	}
	return 0;
}
