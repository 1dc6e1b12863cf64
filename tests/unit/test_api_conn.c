/* The API's HTTP handling (src/vmm/api/conn.c over libhttp-parser) and routes on bytes, without
 * sockets or KVM: an instance whose VM steps refuse. Each test feeds a request stream and looks
 * at the answers and at the configuration the routes built. */
#include <errno.h>

#include "../../src/vmm/api/conn.h"
#include "../../src/vmm/instance.h"
#include "unit.h"

static int refuse(struct vmm_instance *in, cap_err *err)
{
	(void)in;
	return cap_errf_code(err, CAP_EXIT_USAGE, 0, "no VM in a unit test");
}

static int no_files(struct vmm_instance *in, const char *path)
{
	(void)in, (void)path;
	return -EPERM;
}

static const struct vmm_ops ops = { .boot = refuse, .pause = refuse, .resume = refuse, .open_metrics = no_files };

static struct vmm_instance in;
static struct api_conn c;

static void setup(void)
{
	struct vm_config cfg;
	cap_err err = { 0 };
	vm_config_init(&cfg);
	if (vmm_instance_init(&in, "unit", &cfg, NULL, &ops, &err) < 0)
		abort();
	vm_config_free(&cfg);
	api_conn_init(&c, &in);
}

static void teardown(void)
{
	api_conn_free(&c);
	vmm_instance_free(&in);
}

/* Feed text in pieces of `chunk` bytes; returns the output so far, NUL-terminated. */
static const char *feed(const char *text, size_t chunk)
{
	size_t n = strlen(text);
	for (size_t off = 0; off < n; off += chunk)
		api_conn_feed(&c, text + off, n - off < chunk ? n - off : chunk);
	static char out[1 << 16];
	size_t len = c.out_len - c.out_off < sizeof(out) - 1 ? c.out_len - c.out_off : sizeof(out) - 1;
	if (len)
		memcpy(out, c.out + c.out_off, len);
	out[len] = 0;
	return out;
}

/* A request with its Content-Length computed. */
static const char *req(const char *method, const char *path, const char *body)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s %s HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s", method, path, strlen(body), body);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int k = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		k++;
	return k;
}

static void test_get_root_byte_by_byte(void)
{
	setup();
	const char *o = feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1);
	CHECK(strstr(o, "HTTP/1.1 200 OK\r\n") == o);
	CHECK(strstr(o, "\"state\":\"Not started\"") != NULL);
	CHECK(strstr(o, "\"id\":\"unit\"") != NULL);
	CHECK(!c.close_after);
	teardown();
}

static void test_pipelined_in_order(void)
{
	setup();
	const char *o = feed("PUT /machine-config HTTP/1.1\r\nContent-Length: 37\r\n\r\n{\"vcpu_count\": 3, \"mem_size_mib\": 96}"
			     "GET /machine-config HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n",
			     7);
	const char *a = strstr(o, "204 No Content"), *b = strstr(o, "200 OK"), *d = strstr(o, "404 Not Found");
	CHECK(a && b && d && a < b && b < d);
	CHECK(strstr(o, "\"vcpu_count\":3,\"mem_size_mib\":96") != NULL);
	CHECK_EQ(in.cfg.ncpus, 3);
	CHECK_EQ(in.cfg.memory_mib, 96u);
	teardown();
}

static void test_chunked_body(void)
{
	setup();
	const char *o = feed("PATCH /machine-config HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "8\r\n{\"mem_si\r\n"
			     "e\r\nze_mib\": 48}  \r\n0\r\n\r\n",
			     3);
	CHECK(strstr(o, "HTTP/1.1 204") == o);
	CHECK_EQ(in.cfg.memory_mib, 48u);
	teardown();
}

static void test_expect_continue(void)
{
	setup();
	const char *o = feed("PATCH /machine-config HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 19\r\n\r\n", 64);
	CHECK(strstr(o, "HTTP/1.1 100 Continue\r\n\r\n") == o);
	o = feed("{\"mem_size_mib\": 32}", 64); /* 20 bytes: one more than announced, the next request's start */
	CHECK(count(o, "HTTP/1.1 ") >= 2);
	teardown();
}

static void test_limits(void)
{
	char big[API_BODY_MAX + 200];
	setup();
	snprintf(big, sizeof(big), "PUT /actions HTTP/1.1\r\nContent-Length: %d\r\n\r\n", API_BODY_MAX + 1);
	CHECK(strstr(feed(big, 4096), "HTTP/1.1 413") != NULL);
	CHECK(c.close_after);
	teardown();

	setup();
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "GET /", 5);
	CHECK(strstr(feed(big, 512), "HTTP/1.1 414") != NULL);
	teardown();

	setup();
	char hdrs[API_HEADERS_MAX + 100] = "GET / HTTP/1.1\r\nX: ";
	size_t n = strlen(hdrs);
	memset(hdrs + n, 'h', sizeof(hdrs) - n - 1);
	hdrs[sizeof(hdrs) - 1] = 0;
	CHECK(strstr(feed(hdrs, 1000), "HTTP/1.1 431") != NULL);
	teardown();
}

static void test_malformed_closes(void)
{
	setup();
	const char *o = feed("NOT HTTP AT ALL\r\n\r\nGET / HTTP/1.1\r\n\r\n", 5);
	CHECK(strstr(o, "HTTP/1.1 400") == o);
	CHECK(strstr(o, "fault_message") != NULL);
	CHECK_EQ(count(o, "HTTP/1.1 "), 1); /* nothing after a malformed request is answered */
	CHECK(c.close_after);
	teardown();
}

static void test_json_faults(void)
{
	setup();
	const char *o = feed(req("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"x\": 1}"), 11);
	CHECK(strstr(o, "400 Bad Request") && strstr(o, "unknown field 'x'"));
	c.out_off = c.out_len = 0;
	o = feed(req("PUT", "/machine-config", "{\"vcpu_count\": \"1\", \"mem_size_mib\": 64}"), 11);
	CHECK(strstr(o, "vcpu_count: must be a non-negative integer") != NULL);
	c.out_off = c.out_len = 0;
	o = feed(req("PATCH", "/machine-config", "{\"mem_size_mib\": 64, \"mem_size_mib\": 65}"), 11);
	CHECK(strstr(o, "400 Bad Request") && strstr(o, "not valid JSON"));
	c.out_off = c.out_len = 0;
	o = feed(req("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 8}"), 11);
	CHECK(strstr(o, "memory 8 MiB: below the minimum") != NULL); /* config.c's own message */
	c.out_off = c.out_len = 0;
	o = feed(req("PUT", "/drives/x", "{\"drive_id\": \"y\", \"path_on_host\": \"/dev/null\"}"), 11);
	CHECK(strstr(o, "differs from the id in the path") != NULL);
	CHECK_EQ(in.cfg.ncpus, 1);
	CHECK_EQ(in.cfg.memory_mib, (uint64_t)VM_DEFAULT_MEMORY_MIB);
	CHECK_EQ(in.cfg.ndisks, 0);
	teardown();
}

static void test_http10_closes(void)
{
	setup();
	const char *o = feed("GET / HTTP/1.0\r\n\r\n", 100);
	CHECK(strstr(o, "HTTP/1.1 200") == o && strstr(o, "Connection: close"));
	CHECK(c.close_after);
	teardown();
}

static void test_timeout_408(void)
{
	setup();
	feed("PUT /actions HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"act", 100);
	CHECK(api_conn_busy(&c));
	api_conn_timeout(&c);
	CHECK(strstr(c.out + c.out_off, "HTTP/1.1 408") != NULL);
	CHECK(c.close_after);
	teardown();
}

int main(void)
{
	RUN(test_get_root_byte_by_byte);
	RUN(test_pipelined_in_order);
	RUN(test_chunked_body);
	RUN(test_expect_continue);
	RUN(test_limits);
	RUN(test_malformed_closes);
	RUN(test_json_faults);
	RUN(test_http10_closes);
	RUN(test_timeout_408);
	UNIT_EXIT();
}
