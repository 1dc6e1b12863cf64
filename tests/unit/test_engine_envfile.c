/* capsule run --env-file: docker's env-file format (src/engine/envfile.h). */
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"

#include "../../src/engine/envfile.h"

static int parse(const char *text, struct envlist *l, cap_err *e)
{
	*l = (struct envlist){ 0 };
	*e = (cap_err){ 0 };
	return engine_env_parse("f.env", text, strlen(text), l, e);
}

static void test_envfile_forms(void)
{
	struct envlist l;
	cap_err e;
	setenv("CAPSULE_UNIT_FROM_CALLER", "caller value", 1);
	unsetenv("CAPSULE_UNIT_UNSET");
	CHECK_EQ(parse("\xef\xbb\xbf"
		       "A=1\n"
		       "# a comment\n"
		       "\n"
		       "   \t\n"
		       "  B=two words  \n"
		       "C=\"quoted\"\n"
		       "D=x=y\n"
		       "E=\n"
		       "CAPSULE_UNIT_FROM_CALLER\n"
		       "CAPSULE_UNIT_UNSET\n"
		       "  # indented comment\n"
		       "F=crlf\r\n"
		       "G=no newline at the end",
		       &l, &e),
		 0);
	CHECK_EQ(l.n, 8);
	if (l.n == 8) {
		CHECK_STR(l.v[0], "A=1");
		CHECK_STR(l.v[1], "B=two words  ");
		CHECK_STR(l.v[2], "C=\"quoted\"");
		CHECK_STR(l.v[3], "D=x=y");
		CHECK_STR(l.v[4], "E=");
		CHECK_STR(l.v[5], "CAPSULE_UNIT_FROM_CALLER=caller value");
		CHECK_STR(l.v[6], "F=crlf");
		CHECK_STR(l.v[7], "G=no newline at the end");
	}
	envlist_free(&l);
	CHECK_EQ(parse("", &l, &e), 0);
	CHECK_EQ(l.n, 0);
	envlist_free(&l);
}

static void test_envfile_refused(void)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "A=1\n=nokey\n", "f.env:2: no variable name before '='" },
		{ "A=1\n\nMY VAR=1\n", "f.env:3: variable 'MY VAR' contains a blank" },
		{ "MY\tVAR\n", "f.env:1: variable 'MY\tVAR' contains a blank" },
		{ "A=\xff\n", "f.env:1: not UTF-8" },
		{ "A=\xc0\xaf\n", "f.env:1: not UTF-8" },          /* overlong '/' */
		{ "A=\xed\xa0\x80\n", "f.env:1: not UTF-8" },      /* a surrogate */
		{ "A=ok\nB=\xe2\x82\n", "f.env:2: not UTF-8" },    /* cut short */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct envlist l;
		cap_err e;
		CHECK(parse(bad[i].text, &l, &e) < 0);
		CHECK_STR(e.msg, bad[i].msg);
		CHECK_EQ(e.exit_code, CAP_EXIT_USAGE);
		envlist_free(&l);
	}
	struct envlist l = { 0 };
	cap_err e = { 0 };
	static const char nul[] = "A=1\nB=x\0y\n";
	CHECK(engine_env_parse("f.env", nul, sizeof(nul) - 1, &l, &e) < 0);
	CHECK_STR(e.msg, "f.env:2: a NUL byte");
	envlist_free(&l);
	/* Valid multi-byte text passes. */
	CHECK_EQ(parse("GREETING=gr\xc3\xbc\xc3\x9f " "\xe2\x82\xac " "\xf0\x9f\x98\x80\n", &l, &e), 0);
	CHECK_EQ(l.n, 1);
	envlist_free(&l);
}

static void test_envfile_read(void)
{
	struct envlist l = { 0 };
	cap_err e = { 0 };
	CHECK(engine_env_file_read("/nonexistent/capsule.env", &l, &e) < 0);
	CHECK_STR(e.msg, "env file /nonexistent/capsule.env: No such file or directory");
	e = (cap_err){ 0 };
	CHECK(engine_env_file_read("/", &l, &e) < 0);
	CHECK_STR(e.msg, "env file /: not a regular file");
	char path[] = "/tmp/capsule-envfile-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ(write(fd, "K=v\nL=w\n", 8), 8);
		close(fd);
		e = (cap_err){ 0 };
		CHECK_EQ(engine_env_file_read(path, &l, &e), 0);
		CHECK_EQ(l.n, 2);
		unlink(path);
	}
	envlist_free(&l);
}

int main(void)
{
	RUN(test_envfile_forms);
	RUN(test_envfile_refused);
	RUN(test_envfile_read);
	return unit_failed_total != 0;
}
