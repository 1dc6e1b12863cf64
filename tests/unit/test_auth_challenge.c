/* WWW-Authenticate parsing (src/image/challenge.c) and the auth file (src/image/authfile.c):
 * the challenge forms registries send, the hostile ones refused, and the containers-auth.json
 * lookups (HOST/REPO over HOST, docker's https:// keys, bad base64 refused). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "../../src/image/authfile.h"
#include "../../src/image/challenge.h"

static int parse(const char *h, struct auth_challenge *c)
{
	return auth_challenge_parse(h, strlen(h), c);
}

static void test_challenges(void)
{
	struct auth_challenge c;
	CHECK_EQ(parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		       "scope=\"repository:library/busybox:pull\"", &c), 0);
	CHECK_EQ(c.scheme, AUTH_SCHEME_BEARER);
	CHECK_STR(c.realm, "https://auth.docker.io/token");
	CHECK_STR(c.service, "registry.docker.io");
	CHECK_STR(c.scope, "repository:library/busybox:pull");
	CHECK_EQ(parse("Basic realm=\"capsule-test\"", &c), 0);
	CHECK_EQ(c.scheme, AUTH_SCHEME_BASIC);
	CHECK_STR(c.realm, "capsule-test");
	/* case, spaces around '=', token values, escapes, error= */
	CHECK_EQ(parse("bearer  Realm = \"http://h/t\" , SERVICE=svc,error=\"insufficient_scope\", scope=\"a\\\"b\"", &c), 0);
	CHECK_EQ(c.scheme, AUTH_SCHEME_BEARER);
	CHECK_STR(c.realm, "http://h/t");
	CHECK_STR(c.service, "svc");
	CHECK_STR(c.error, "insufficient_scope");
	CHECK_STR(c.scope, "a\"b");
	/* several challenges: Bearer wins whatever the order; a token68 one in between */
	CHECK_EQ(parse("Negotiate abc==, Basic realm=\"b\", Bearer realm=\"t\",service=\"s\"", &c), 0);
	CHECK_EQ(c.scheme, AUTH_SCHEME_BEARER);
	CHECK_STR(c.realm, "t");
	CHECK_EQ(parse("Basic realm=\"b\"", &c), 0);
	CHECK_EQ(parse("Negotiate", &c), 0);
	CHECK_EQ(c.scheme, AUTH_SCHEME_OTHER);
	CHECK_STR(c.other, "Negotiate");
	/* the first of a repeated parameter counts */
	CHECK_EQ(parse("Bearer realm=\"one\",realm=\"two\"", &c), 0);
	CHECK_STR(c.realm, "one");
	/* hostile: control characters, no closing quote, garbage, nothing, a realm too long */
	static const char *const bad[] = { "", "   ", ",", "Bearer realm=\"a\nb\"", "Bearer realm=\"abc",
					   "Bearer realm=\"a\" junk", "=x", "Bearer realm=\"x\\",
					   "\"Bearer\"", "Bearer realm=\"a\"\x01" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(parse(bad[i], &c), -EINVAL);
	/* "realm=" alone is a token68, not an empty realm */
	CHECK_EQ(parse("Bearer realm=", &c), 0);
	CHECK_STR(c.realm, "");
	char longer[2100] = "Bearer realm=\"";
	memset(longer + strlen(longer), 'a', 1500);
	strcat(longer, "\"");
	CHECK_EQ(parse(longer, &c), -EINVAL);
	/* a long parameter nobody uses is fine */
	char other[2100] = "Bearer realm=\"r\",x=\"";
	memset(other + strlen(other), 'a', 1500);
	strcat(other, "\"");
	CHECK_EQ(parse(other, &c), 0);
	CHECK_STR(c.realm, "r");
	/* an embedded NUL ends nothing: the length given counts */
	CHECK_EQ(auth_challenge_parse("Basic realm=\"a\0b\"", 17, &c), -EINVAL);
}

static void test_authfile(void)
{
	char dir[] = "/tmp/capsule-unit-auth.XXXXXX", path[200];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/sub/auth.json", dir);
	cap_err e = { 0 };
	struct reg_creds c;
	CHECK_EQ(authfile_get(path, "h:1", "a/b", &c, &e), 0);   /* no file: no credentials */
	CHECK_EQ(authfile_set(path, "h:1", "u", "p:w", &e), 0);
	struct stat st;
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(authfile_get(path, "h:1", "a/b", &c, &e), 1);
	CHECK_STR(c.user, "u");
	CHECK_STR(c.pass, "p:w");
	CHECK_EQ(authfile_set(path, "h:1/a", "repo-user", "x", &e), 0);
	CHECK_EQ(authfile_get(path, "h:1", "a/b", &c, &e), 1);
	CHECK_STR(c.user, "repo-user");
	CHECK_EQ(authfile_get(path, "h:1", "ab", &c, &e), 1);
	CHECK_STR(c.user, "u");
	CHECK_EQ(authfile_get(path, "h:2", "a", &c, &e), 0);
	CHECK_EQ(authfile_remove(path, "h:1/a", &e), 1);
	CHECK_EQ(authfile_remove(path, "h:1/a", &e), 0);
	CHECK_EQ(authfile_remove(path, NULL, &e), 1);
	CHECK_EQ(authfile_get(path, "h:1", "a", &c, &e), 0);
	/* docker's https:// keys; bad base64 and a file that is no JSON object are refused */
	FILE *f = fopen(path, "w");
	fputs("{\"auths\": {\"https://d:5\": {\"auth\": \"dTpw\"}, \"bad\": {\"auth\": \"!!!!\"},"
	      " \"nocolon\": {\"auth\": \"dXNlcg==\"}}, \"credHelpers\": {}}", f);
	fclose(f);
	CHECK_EQ(authfile_get(path, "d:5", "r", &c, &e), 1);
	CHECK_STR(c.user, "u");
	CHECK_STR(c.pass, "p");
	CHECK(authfile_get(path, "bad", "r", &c, &e) < 0);
	cap_err e2 = { 0 };
	CHECK(authfile_get(path, "nocolon", "r", &c, &e2) < 0);
	CHECK_EQ(authfile_set(path, "n:1", "a", "b", &e), 0);
	f = fopen(path, "r");
	char buf[1000] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	CHECK(strstr(buf, "credHelpers") != NULL);   /* kept */
	f = fopen(path, "w");
	fputs("[1]", f);
	fclose(f);
	cap_err e3 = { 0 };
	CHECK(authfile_get(path, "n:1", "r", &c, &e3) < 0);
	CHECK(strstr(e3.msg, "not a JSON object") != NULL);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
}

int main(void)
{
	RUN(test_challenges);
	RUN(test_authfile);
	UNIT_EXIT();
}
