/* Pure parsing of the image store and registry code: image references, store names, URLs,
 * digests and archive paths (hostile input: each bad form is refused). */
#include <errno.h>

#include "unit.h"

#include "../../src/image/digest.h"
#include "../../src/image/fsutil.h"
#include "../../src/image/http.h"
#include "../../src/image/registry.h"
#include "../../src/image/store.h"

static void test_ref_forms(void)
{
	struct image_ref r;
	cap_err e = { 0 };
	CHECK_EQ(image_ref_parse("127.0.0.1:5000/test/base:1", &r, &e), 0);
	CHECK_STR(r.host, "127.0.0.1:5000");
	CHECK_STR(r.api_host, "127.0.0.1:5000");
	CHECK_STR(r.repo, "test/base");
	CHECK_STR(r.tag, "1");
	CHECK_STR(r.name, "127.0.0.1:5000/test/base:1");
	CHECK_EQ(image_ref_parse("busybox", &r, &e), 0);
	CHECK_STR(r.host, "docker.io");
	CHECK_STR(r.api_host, "registry-1.docker.io");
	CHECK_STR(r.repo, "library/busybox");
	CHECK_STR(r.tag, "latest");
	CHECK_EQ(image_ref_parse("localhost/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &r, &e), 0);
	CHECK_STR(r.host, "localhost");
	CHECK_STR(r.repo, "a/b");
	CHECK_STR(r.tag, "");
	CHECK(digest_valid(r.digest));
	CHECK_EQ(image_ref_parse("example.com:8080/x:y", &r, &e), 0);
	CHECK_STR(r.repo, "x");
	CHECK_STR(r.tag, "y");
}

static void test_ref_refused(void)
{
	struct image_ref r;
	static const char *const bad[] = {
		"", "a@sha256:12", "a@md5:0123", "UPPER/case", "host:1/", "a/../b", "a b", "a:", "a:-x",
		("x/y:0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"),
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cap_err e = { 0 };
		int r0 = image_ref_parse(bad[i], &r, &e);
		if (r0 == 0)
			printf("  accepted: '%s'\n", bad[i]);
		CHECK(r0 < 0 && e.set);
	}
}

static void test_store_names(void)
{
	CHECK(store_name_valid("a/b:c"));
	CHECK(store_name_valid("Example.COM:5000/a/b"));
	CHECK(!store_name_valid("UPPER/x"));
	CHECK(!store_name_valid("a//b"));
	CHECK(!store_name_valid("/a"));
	CHECK(!store_name_valid("a@sha256:00"));
	CHECK(!store_name_valid("a:.tag"));
	CHECK(store_name_matches("docker.io/library/busybox:latest", "busybox:latest"));
	CHECK(store_name_matches("localhost/x:1", "x:1"));
	CHECK(store_name_matches("docker.io/x/da:1", "x/da:1"));
	CHECK(!store_name_matches("docker.io/library/x/da:1", "x/da:1"));
	char n[64];
	CHECK_EQ(store_normalize_name("a/b", n, sizeof(n)), 0);
	CHECK_STR(n, "a/b:latest");
	CHECK_EQ(store_normalize_name("host:5000/a", n, sizeof(n)), 0);
	CHECK_STR(n, "host:5000/a:latest");
}

static void test_urls(void)
{
	struct http_url u, j;
	cap_err e = { 0 };
	CHECK_EQ(http_url_parse("https://auth.example.com/token?a=b", &u, &e), 0);
	CHECK(u.tls);
	CHECK_STR(u.host, "auth.example.com");
	CHECK_STR(u.port, "443");
	CHECK_STR(u.path, "/token?a=b");
	CHECK_EQ(http_url_parse("http://[::1]:5000", &u, &e), 0);
	CHECK_STR(u.host, "::1");
	CHECK_STR(u.port, "5000");
	CHECK_STR(u.path, "/");
	CHECK_EQ(http_url_join(&u, "/v2/x/blobs/uploads/1?_state=s", &j, &e), 0);
	CHECK_STR(j.host, "::1");
	CHECK_STR(j.path, "/v2/x/blobs/uploads/1?_state=s");
	static const char *const bad[] = { "ftp://x/", "http://", "http://h:99999999/", "http://h:x/", "http://h/a b",
					   "http://[::1/", "http://h/\r\nX: y" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cap_err e2 = { 0 };
		CHECK(http_url_parse(bad[i], &u, &e2) < 0);
	}
	cap_err e3 = { 0 };
	CHECK(http_url_join(&u, "relative/path", &j, &e3) < 0);
}

static void test_digests_and_paths(void)
{
	char d[DIGEST_STR_LEN + 1], p[64];
	digest_buffer("", 0, d);
	CHECK_STR(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_buffer("abc", 3, d);
	CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(digest_valid(d));
	CHECK(!digest_valid("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	CHECK(!digest_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	CHECK(!digest_valid("sha256:../../../etc/passwd0000000000000000000000000000000000000000000000"));
	CHECK_EQ(normalize_rel_path("/./a//b/./c/", p, sizeof(p)), 0);
	CHECK_STR(p, "a/b/c");
	CHECK_EQ(normalize_rel_path("./", p, sizeof(p)), 0);
	CHECK_STR(p, "");
	CHECK_EQ(normalize_rel_path("a/../b", p, sizeof(p)), -EINVAL);
	CHECK_EQ(normalize_rel_path("..", p, sizeof(p)), -EINVAL);
	CHECK_EQ(normalize_rel_path("a/..", p, sizeof(p)), -EINVAL);
	CHECK_EQ(normalize_rel_path("a/..b", p, sizeof(p)), 0);
	CHECK_EQ(normalize_rel_path("0123456789012345678901234567890123456789012345678901234567890123456789", p, sizeof(p)),
		 -ENAMETOOLONG);
}

int main(void)
{
	RUN(test_ref_forms);
	RUN(test_ref_refused);
	RUN(test_store_names);
	RUN(test_urls);
	RUN(test_digests_and_paths);
	UNIT_EXIT();
}
