/* linux.seccomp compiled to BPF: a valid profile gives a program, bad fields are named. */
#include "unit.h"
#include "../../src/oci/container.h"

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
