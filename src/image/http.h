/* A small HTTP/1.1 client for the registry protocol: one request per connection, responses
 * parsed by libhttp-parser, TLS by OpenSSL (system CA store, SNI, host name checked). Bodies
 * go to memory (bounded) or to a sink as they arrive; every read and write has a timeout. */
#ifndef CAPSULE_IMAGE_HTTP_H
#define CAPSULE_IMAGE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/error.h"

struct http_url {
	bool tls;
	char host[256];
	char port[8];
	char path[4096];   /* with the query */
};

/* "http[s]://host[:port]/path?query" (an IPv6 host in brackets). */
int http_url_parse(const char *url, struct http_url *u, cap_err *err);
/* url resolved against base (a Location header: absolute, or a path on the same host). */
int http_url_join(const struct http_url *base, const char *ref, struct http_url *out, cap_err *err);

#define HTTP_MAX_HEADERS 32

struct http_resp {
	int status;
	size_t n_headers;
	char *names[HTTP_MAX_HEADERS], *values[HTTP_MAX_HEADERS];
	char *body;          /* when no sink was given: NUL-terminated, body_len bytes */
	size_t body_len;
	unsigned long long received;   /* body bytes received (to the sink or memory) */
};

/* A 2xx response's body, as it arrives, with the status; a negative return stops the
 * transfer with that error. */
typedef int http_sink(void *ctx, int status, const void *buf, size_t n);

struct http_req {
	const char *method;
	const struct http_url *url;
	const char *const *headers;   /* "Name: value" lines, NULL-terminated, or NULL */
	const void *body;             /* or body_fd >= 0 */
	size_t body_len;
	int body_fd;
	unsigned long long body_fd_len;
	bool tls_verify;
	http_sink *sink;              /* NULL: the body into resp->body, at most body_max bytes */
	void *sink_ctx;
	size_t body_max;
};

/* Sends the request and reads the whole response. Returns 0 for any HTTP status (the caller
 * judges it), negative with err filled when the exchange itself failed. */
int http_do(const struct http_req *rq, struct http_resp *rs, cap_err *err);
const char *http_header(const struct http_resp *rs, const char *name);
void http_resp_free(struct http_resp *rs);

#endif
