/* One API connection's HTTP/1.1: bytes in, requests parsed by libhttp-parser (Debian's
 * http-parser 2.9) within fixed limits, each routed (router.h) and its response appended to the
 * output buffer. No socket here: server.c reads and writes, and the fuzz target feeds bytes.
 *
 * Requests on a connection are answered in order (keep-alive and pipelining work); the parser
 * is paused after each complete request so that the next one's bytes wait until it is answered.
 * A malformed request, or one past a limit, gets its 4xx and the connection closes after it. */
#ifndef CAPSULE_VMM_API_CONN_H
#define CAPSULE_VMM_API_CONN_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

struct vmm_instance;

#define API_URL_MAX 1024             /* request target */
#define API_HEADERS_MAX 8192         /* every header line together */
#define API_HEADER_COUNT_MAX 64
#define API_BODY_MAX 51200           /* Firecracker's default http_api_max_payload_size */
#define API_IN_CAP 16384             /* bytes read but not parsed yet */
#define API_OUT_HIGH 65536           /* stop parsing more requests while this much waits to be sent */

struct api_conn {
	http_parser parser;
	struct vmm_instance *in;

	char in_buf[API_IN_CAP];
	size_t in_len;

	/* the request being parsed */
	bool in_request;             /* its first byte has arrived */
	bool message_done;
	char url[API_URL_MAX + 1];
	size_t url_len;
	size_t header_bytes;
	int nheaders;
	bool in_value;               /* the parser is in a header value (else a name) */
	char hname[32];              /* the current header's name, for the few we look at */
	size_t hname_len;
	char hvalue[64];
	size_t hvalue_len;
	bool expect_continue;
	char *body;
	size_t body_len;
	int limit_status;            /* a limit was hit in a callback: answer this (413, 414, 431) */
	const char *limit_what;

	/* output */
	char *out;
	size_t out_len, out_off, out_cap;
	bool close_after;            /* close once out is written */
	bool failed;                 /* out of memory: close now */
	bool over_limit;             /* a connection past the server's limit: its request gets a 503 */
};

void api_conn_init(struct api_conn *c, struct vmm_instance *in);
void api_conn_free(struct api_conn *c);
/* Room left in in_buf: the server reads at most this much. */
size_t api_conn_room(const struct api_conn *c);
/* in_len grew by n (the server read into in_buf + in_len): parse and answer what is complete. */
void api_conn_received(struct api_conn *c, size_t n);
/* The peer will send nothing more: a complete request is still answered, a partial one
 * dropped; the connection closes once out is written. */
void api_conn_eof(struct api_conn *c);
/* Copy data in (as much as fits, repeatedly, with output discarded when it grows past
 * API_OUT_HIGH): the fuzz target's way in. */
void api_conn_feed(struct api_conn *c, const char *data, size_t len);
/* Pending output: out + out_off, out_len - out_off bytes; the server reports what it wrote. */
void api_conn_sent(struct api_conn *c, size_t n);
/* A request has started and not been answered (what the request timeout applies to). */
bool api_conn_busy(const struct api_conn *c);
/* Answer the request in progress with 408 (the server's request timeout) and close after. */
void api_conn_timeout(struct api_conn *c);

#endif
