/* One API connection's HTTP (conn.h). The parsing is libhttp-parser's; this file keeps its
 * callbacks within the limits and turns complete requests into routed responses. */
#include "conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../lib/log.h"
#include "../instance.h"
#include "router.h"

#ifndef CAPSULE_VERSION
#define CAPSULE_VERSION "0.1.0"
#endif

static struct api_conn *of(http_parser *p)
{
	return p->data;
}

static void reset_request(struct api_conn *c)
{
	free(c->body);
	c->body = NULL;
	c->body_len = 0;
	c->in_request = c->message_done = false;
	c->url_len = 0;
	c->url[0] = 0;
	c->header_bytes = 0;
	c->nheaders = 0;
	c->in_value = false;
	c->hname_len = c->hvalue_len = 0;
	c->expect_continue = false;
	c->limit_status = 0;
	c->limit_what = NULL;
}

static int limit(struct api_conn *c, int status, const char *what)
{
	c->limit_status = status;
	c->limit_what = what;
	return -1;
}

/* Append to a bounded buffer; longer values are marked (len past cap) rather than kept. */
static void bounded_append(char *buf, size_t cap, size_t *len, const char *at, size_t n)
{
	if (*len + n < cap) {
		memcpy(buf + *len, at, n);
		buf[*len + n] = 0;
		*len += n;
	} else {
		*len = cap;
	}
}

/* A header ended: look at the one we act on. */
static void header_done(struct api_conn *c)
{
	if (c->hname_len < sizeof(c->hname) && c->hvalue_len < sizeof(c->hvalue) && !strcasecmp(c->hname, "expect") &&
	    !strcasecmp(c->hvalue, "100-continue"))
		c->expect_continue = true;
	c->hname_len = c->hvalue_len = 0;
	c->hname[0] = c->hvalue[0] = 0;
	c->in_value = false;
}

static int on_message_begin(http_parser *p)
{
	struct api_conn *c = of(p);
	reset_request(c);
	c->in_request = true;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct api_conn *c = of(p);
	if (c->url_len + n > API_URL_MAX)
		return limit(c, 414, "the request target is longer than " "1024" " bytes");
	memcpy(c->url + c->url_len, at, n);
	c->url_len += n;
	c->url[c->url_len] = 0;
	return 0;
}

static int header_bytes(struct api_conn *c, size_t n)
{
	c->header_bytes += n;
	if (c->header_bytes > API_HEADERS_MAX)
		return limit(c, 431, "the headers are longer than 8192 bytes");
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct api_conn *c = of(p);
	if (c->in_value)
		header_done(c);
	if (c->hname_len == 0 && ++c->nheaders > API_HEADER_COUNT_MAX)
		return limit(c, 431, "more than 64 headers");
	bounded_append(c->hname, sizeof(c->hname), &c->hname_len, at, n);
	return header_bytes(c, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct api_conn *c = of(p);
	c->in_value = true;
	bounded_append(c->hvalue, sizeof(c->hvalue), &c->hvalue_len, at, n);
	return header_bytes(c, n);
}

static void out_append(struct api_conn *c, const char *data, size_t n);

static int on_headers_complete(http_parser *p)
{
	struct api_conn *c = of(p);
	if (c->in_value || c->hname_len)
		header_done(c);
	bool has_length = p->flags & F_CONTENTLENGTH;
	if (has_length && p->content_length > API_BODY_MAX)
		return limit(c, 413, "the body is larger than 51200 bytes");
	/* curl sends Expect: 100-continue for bodies over 1 KiB and waits a second for this. */
	if (c->expect_continue && p->http_major == 1 && p->http_minor >= 1 && (!has_length || p->content_length > 0))
		out_append(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	if (has_length && p->content_length > 0) {
		c->body = malloc((size_t)p->content_length + 1);
		if (!c->body) {
			c->failed = true;
			return -1;
		}
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct api_conn *c = of(p);
	if (c->body_len + n > API_BODY_MAX)
		return limit(c, 413, "the body is larger than 51200 bytes");
	if (!(p->flags & F_CONTENTLENGTH)) { /* chunked: grow as it comes, within the limit */
		char *b = realloc(c->body, c->body_len + n + 1);
		if (!b) {
			c->failed = true;
			return -1;
		}
		c->body = b;
	}
	memcpy(c->body + c->body_len, at, n);
	c->body_len += n;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct api_conn *c = of(p);
	c->message_done = true;
	/* One request at a time: the next one's bytes wait in in_buf until this one is answered. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void api_conn_init(struct api_conn *c, struct vmm_instance *in)
{
	memset(c, 0, sizeof(*c));
	c->in = in;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
}

void api_conn_free(struct api_conn *c)
{
	free(c->body);
	free(c->out);
	c->body = c->out = NULL;
}

size_t api_conn_room(const struct api_conn *c)
{
	return c->close_after || c->failed ? 0 : API_IN_CAP - c->in_len;
}

static void out_append(struct api_conn *c, const char *data, size_t n)
{
	if (c->failed)
		return;
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + n)
			cap *= 2;
		char *b = realloc(c->out, cap);
		if (!b) {
			c->failed = true;
			return;
		}
		c->out = b;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static void respond(struct api_conn *c, const struct api_response *r, bool close)
{
	char head[512];
	size_t blen = r->body ? strlen(r->body) : 0;
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nServer: capsule/%s\r\n", r->status, reason(r->status),
			 CAPSULE_VERSION);
	if (r->status != 204)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			      blen);
	if (r->allow)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Allow: %s\r\n", r->allow);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "%s\r\n", close ? "Connection: close\r\n" : "");
	out_append(c, head, (size_t)n);
	if (blen && r->status != 204)
		out_append(c, r->body, blen);
	if (close)
		c->close_after = true;
	if (c->in) {
		c->in->api_requests++;
		if (r->status >= 400)
			c->in->api_errors++;
	}
}

static void respond_fault(struct api_conn *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void respond_fault(struct api_conn *c, int status, const char *fmt, ...)
{
	struct api_response r = { 0 };
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_fault(&r, status, "%s", msg);
	respond(c, &r, true);
	api_response_free(&r);
}

static enum api_method method_of(unsigned m)
{
	switch (m) {
	case HTTP_GET: return API_GET;
	case HTTP_PUT: return API_PUT;
	case HTTP_PATCH: return API_PATCH;
	default: return API_OTHER;
	}
}

static void answer(struct api_conn *c)
{
	struct http_parser_url u;
	if (c->over_limit) {
		respond_fault(c, 503, "too many API connections, try again later");
		return;
	}
	char path[API_URL_MAX + 1];
	http_parser_url_init(&u);
	if (http_parser_parse_url(c->url, c->url_len, 0, &u) || !(u.field_set & (1 << UF_PATH))) {
		respond_fault(c, 400, "bad request target '%.100s'", c->url);
		return;
	}
	memcpy(path, c->url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
	path[u.field_data[UF_PATH].len] = 0;
	if (c->body)
		c->body[c->body_len] = 0;
	struct api_request req = {
		.method = method_of(c->parser.method),
		.method_name = http_method_str((enum http_method)c->parser.method),
		.path = path,
		.body = c->body_len ? c->body : NULL,
		.body_len = c->body_len,
	};
	struct api_response resp;
	api_route(c->in, &req, &resp);
	cap_debug("api: %s %s -> %d", req.method_name, path, resp.status);
	respond(c, &resp, !http_should_keep_alive(&c->parser) || c->parser.upgrade);
	api_response_free(&resp);
}

static size_t pending_out(const struct api_conn *c)
{
	return c->out_len - c->out_off;
}

static void process(struct api_conn *c)
{
	size_t off = 0;
	while (!c->close_after && !c->failed && off < c->in_len && pending_out(c) < API_OUT_HIGH) {
		size_t n = http_parser_execute(&c->parser, &settings, c->in_buf + off, c->in_len - off);
		off += n;
		if (c->message_done) {
			answer(c);
			reset_request(c);
			http_parser_pause(&c->parser, 0);
			continue;
		}
		enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
		if (e == HPE_OK)
			break; /* all consumed; the request goes on in the next bytes */
		if (c->failed)
			break;
		if (c->limit_status)
			respond_fault(c, c->limit_status, "%s", c->limit_what);
		else
			respond_fault(c, 400, "malformed HTTP request: %s", http_errno_description(e));
		break;
	}
	if (c->close_after || c->failed)
		off = c->in_len; /* nothing more is read from a connection that closes */
	memmove(c->in_buf, c->in_buf + off, c->in_len - off);
	c->in_len -= off;
}

void api_conn_received(struct api_conn *c, size_t n)
{
	c->in_len += n;
	process(c);
}

void api_conn_eof(struct api_conn *c)
{
	process(c);
	c->close_after = true;
}

void api_conn_feed(struct api_conn *c, const char *data, size_t len)
{
	while (len && !c->close_after && !c->failed) {
		size_t room = api_conn_room(c), n = len < room ? len : room;
		if (n == 0) {
			c->out_off = c->out_len = 0; /* the fuzz target does not read its answers */
			process(c);
			if (api_conn_room(c) == 0)
				break;
			continue;
		}
		memcpy(c->in_buf + c->in_len, data, n);
		data += n;
		len -= n;
		api_conn_received(c, n);
		if (pending_out(c) >= API_OUT_HIGH) {
			c->out_off = c->out_len = 0;
			process(c);
		}
	}
}

void api_conn_sent(struct api_conn *c, size_t n)
{
	c->out_off += n;
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		process(c); /* requests that waited for the output to drain */
	}
}

bool api_conn_busy(const struct api_conn *c)
{
	return c->in_request || c->in_len > 0;
}

void api_conn_timeout(struct api_conn *c)
{
	if (api_conn_busy(c) && !c->close_after)
		respond_fault(c, 408, "the request did not arrive in time");
	c->close_after = true;
}
