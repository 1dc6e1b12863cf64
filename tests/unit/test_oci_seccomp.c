/* linux.seccomp compiled to BPF: a valid profile gives a program that enforces it (checked in a
 * forked child), bad fields are named. */
#include "unit.h"
#include "../../src/oci/seccomp.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int compile(const char *seccomp_json, struct oci_ctx *c, struct oci_spec *s, cap_err *err)
{
	char text[4096];
	json_error_t je;
	snprintf(text, sizeof(text),
		 "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
		 "\"process\":{\"args\":[\"true\"]},\"linux\":{\"seccomp\":%s}}", seccomp_json);
	oci_ctx_init(c);
	memset(s, 0, sizeof(*s));
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		return -100;
	int r = oci_spec_parse(j, s, err);
	if (r < 0)
		return r;
	c->spec = s;
	return oci_seccomp_compile(c, err);
}

/* Child side of enforces(): after loading the filter each rule must act as written. Exit codes
 * name the first rule that did not; a kill(self, 9) must end it with SIGSYS, not SIGKILL. */
static void child_checks(const struct oci_ctx *c)
{
	cap_err err = { 0 };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || oci_seccomp_load(c, &err) < 0)
		_exit(2);
	/* Listed with the default errno: EPERM, where an unfiltered call gives ENOENT. */
	if (syscall(SYS_mkdir, "/nonexistent-capsule/x", 0700) != -1 || errno != EPERM)
		_exit(3);
	if (syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent-capsule/x", 0700) != -1 || errno != EPERM)
		_exit(4);
	/* errnoRet 38 */
	if (syscall(SYS_chmod, "/nonexistent-capsule", 0) != -1 || errno != 38)
		_exit(5);
	/* Not listed: the default action (allow) lets it through to the kernel's own ENOENT. */
	if (syscall(SYS_access, "/nonexistent-capsule", F_OK) != -1 || errno != ENOENT)
		_exit(6);
	/* kill is killed only for signal 9: signal 0 passes. */
	if (syscall(SYS_kill, getpid(), 0) != 0)
		_exit(7);
	syscall(SYS_kill, getpid(), SIGKILL);
	_exit(8);
}

/* The compiled program, loaded in a forked child, denies and allows what the profile says. */
static void enforces(const struct oci_ctx *c)
{
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid < 0)
		return;
	if (pid == 0)
		child_checks(c);
	int st = 0;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS) {
		if (WIFEXITED(st))
			printf("# filtered child exited %d (2 load, 3 mkdir, 4 mkdirat, 5 chmod, 6 access, 7 kill 0, 8 kill 9 not killed)\n",
			       WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			printf("# filtered child died of signal %d, want SIGSYS\n", WTERMSIG(st));
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	}
}

static void compiles_a_profile(void)
{
	struct oci_ctx c;
	struct oci_spec s;
	cap_err err = { 0 };
	int r = compile("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
			"\"flags\":[\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
			"\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\",\"no_such_syscall\"],\"action\":\"SCMP_ACT_ERRNO\"},"
			"{\"names\":[\"chmod\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38},"
			"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\","
			"\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]},"
			"{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_KILL_PROCESS\",\"args\":[{\"index\":1,\"value\":9,\"op\":\"SCMP_CMP_EQ\"}]}]}",
			&c, &s, &err);
	CHECK_EQ(r, 0);
	if (err.set)
		printf("# %s\n", err.msg);
	CHECK(c.seccomp.len > 10);
	CHECK(c.seccomp.filter != NULL);
	if (r == 0 && c.seccomp.filter)
		enforces(&c);
	oci_ctx_release(&c);
	oci_spec_free(&s);
}

static void rejects_bad_fields(void)
{
	static const struct { const char *json, *want; } cases[] = {
		{ "{\"syscalls\":[]}", "linux.seccomp.defaultAction: missing" },
		{ "{\"defaultAction\":\"SCMP_ACT_NOPE\"}", "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_NOPE'" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
		  "linux.seccomp.architectures[0]: unknown 'SCMP_ARCH_VAX'" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"BOGUS\"}]}",
		  "linux.seccomp.syscalls[0].action: unknown action 'BOGUS'" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
		  "\"args\":[{\"index\":9,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}", "linux.seccomp.syscalls[0].args[0].index" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
		  "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_ABOUT\"}]}]}", "op: unknown operator 'SCMP_CMP_ABOUT'" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_NOPE\"]}", "linux.seccomp.flags[0]" },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/x.sock\"}", "listenerPath" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oci_ctx c;
		struct oci_spec s;
		cap_err err = { 0 };
		int r = compile(cases[i].json, &c, &s, &err);
		CHECK(r < 0);
		if (!strstr(err.msg, cases[i].want)) {
			printf("# case %zu: got '%s', want '%s'\n", i, err.msg, cases[i].want);
			CHECK(0);
		}
		CHECK(c.seccomp.filter == NULL);
		oci_ctx_release(&c);
		oci_spec_free(&s);
	}
}

int main(void)
{
	RUN(compiles_a_profile);
	RUN(rejects_bad_fields);
	UNIT_EXIT();
}
