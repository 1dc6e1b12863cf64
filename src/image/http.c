#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http.h"

#define IO_TIMEOUT_S 60
#define CONNECT_TIMEOUT_MS 15000
#define HEADER_MAX 8192

int http_url_parse(const char *url, struct http_url *u, cap_err *err)
{
	memset(u, 0, sizeof(*u));
	const char *p;
	if (!strncmp(url, "https://", 8)) {
		u->tls = true;
		p = url + 8;
	} else if (!strncmp(url, "http://", 7)) {
		p = url + 7;
	} else {
		return cap_errf(err, 0, "URL '%.200s': not http or https", url);
	}
	const char *slash = strchr(p, '/');
	size_t hl = slash ? (size_t)(slash - p) : strlen(p);
	const char *hp_end = p + hl, *colon = NULL;
	if (*p == '[') {
		const char *rb = memchr(p, ']', hl);
		if (!rb)
			return cap_errf(err, 0, "URL '%.200s': bad IPv6 host", url);
		if (rb + 1 < hp_end && rb[1] == ':')
			colon = rb + 1;
		if ((size_t)(rb - p - 1) >= sizeof(u->host))
			return cap_errf(err, 0, "URL '%.200s': host too long", url);
		memcpy(u->host, p + 1, (size_t)(rb - p - 1));
	} else {
		colon = memchr(p, ':', hl);
		size_t n = colon ? (size_t)(colon - p) : hl;
		if (n == 0 || n >= sizeof(u->host))
			return cap_errf(err, 0, "URL '%.200s': bad host", url);
		memcpy(u->host, p, n);
	}
	if (colon) {
		size_t n = (size_t)(hp_end - colon - 1);
		if (n == 0 || n >= sizeof(u->port) || strspn(colon + 1, "0123456789") < n)
			return cap_errf(err, 0, "URL '%.200s': bad port", url);
		memcpy(u->port, colon + 1, n);
	} else {
		snprintf(u->port, sizeof(u->port), "%s", u->tls ? "443" : "80");
	}
	if (snprintf(u->path, sizeof(u->path), "%s", slash ? slash : "/") >= (int)sizeof(u->path))
		return cap_errf(err, 0, "URL '%.200s': too long", url);
	for (const char *c = u->path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return cap_errf(err, 0, "URL '%.200s': a space or control character in it", url);
	return 0;
}

int http_url_join(const struct http_url *base, const char *ref, struct http_url *out, cap_err *err)
{
	if (!strncmp(ref, "http://", 7) || !strncmp(ref, "https://", 8))
		return http_url_parse(ref, out, err);
	if (ref[0] != '/')
		return cap_errf(err, 0, "location '%.200s': not an absolute URL or path", ref);
	*out = *base;
	if (snprintf(out->path, sizeof(out->path), "%s", ref) >= (int)sizeof(out->path))
		return cap_errf(err, 0, "location '%.200s': too long", ref);
	for (const char *c = out->path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return cap_errf(err, 0, "location '%.200s': a space or control character in it", ref);
	return 0;
}

/* ---- the connection ---- */

struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

static int tcp_connect(const struct http_url *u, cap_err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int g = getaddrinfo(u->host, u->port, &hints, &res);
	if (g)
		return cap_errf(err, 0, "%s:%s: %s", u->host, u->port, gai_strerror(g));
	int fd = -1, e = ECONNREFUSED;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			int soe = 0;
			socklen_t sl = sizeof(soe);
			int pr = poll(&pf, 1, CONNECT_TIMEOUT_MS);
			if (pr == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soe, &sl) == 0 && soe == 0)
				break;
			e = pr == 0 ? ETIMEDOUT : soe ? soe : errno;
		} else {
			e = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return cap_errf(err, e, "%s:%s", u->host, u->port);
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static const char *ssl_why(void)
{
	unsigned long e = ERR_get_error();
	return e ? ERR_reason_error_string(e) ?: "TLS error" : "TLS error";
}

static int conn_open(struct conn *c, const struct http_url *u, bool verify, cap_err *err)
{
	memset(c, 0, sizeof(*c));
	c->fd = tcp_connect(u, err);
	if (c->fd < 0)
		return c->fd;
	if (!u->tls)
		return 0;
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx || !(c->ssl = SSL_new(c->ctx)))
		return cap_errf(err, ENOMEM, "%s: TLS", u->host);
	if (verify) {
		SSL_CTX_set_default_verify_paths(c->ctx);
		SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
		SSL_set1_host(c->ssl, u->host);
	}
	SSL_set_tlsext_host_name(c->ssl, u->host);
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1) {
		long v = SSL_get_verify_result(c->ssl);
		if (v != X509_V_OK)
			return cap_errf(err, 0, "%s: TLS: the certificate is not trusted: %s", u->host,
					X509_verify_cert_error_string(v));
		return cap_errf(err, 0, "%s: TLS handshake: %s", u->host, ssl_why());
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->ssl = NULL;
	c->ctx = NULL;
}

static int conn_write(struct conn *c, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w;
		if (c->ssl) {
			int r = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
			if (r <= 0)
				return -EIO;
			w = r;
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t conn_read(struct conn *c, void *buf, size_t n)
{
	if (c->ssl) {
		int r = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		if (r > 0)
			return r;
		int e = SSL_get_error(c->ssl, r);
		return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ? 0 : -EIO;
	}
	for (;;) {
		ssize_t r = recv(c->fd, buf, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		return r;
	}
}

/* ---- the response ---- */

struct parse {
	const struct http_req *rq;
	struct http_resp *rs;
	char *field;            /* the header being read */
	bool in_value;
	size_t header_bytes;
	bool done, head;
	int sink_err;
	size_t cap;
};

static char *append(char *s, const char *at, size_t n)
{
	size_t l = s ? strlen(s) : 0;
	char *r = realloc(s, l + n + 1);
	if (!r) {
		free(s);
		return NULL;
	}
	memcpy(r + l, at, n);
	r[l + n] = 0;
	return r;
}

static int on_field(http_parser *hp, const char *at, size_t n)
{
	struct parse *p = hp->data;
	if ((p->header_bytes += n) > HEADER_MAX)
		return 1;
	if (p->in_value) {
		p->in_value = false;
		p->rs->n_headers++;
	}
	if (p->rs->n_headers >= HTTP_MAX_HEADERS)
		return 0;   /* more headers than we keep: the rest are ignored */
	char **f = &p->rs->names[p->rs->n_headers];
	return (*f = append(*f, at, n)) ? 0 : 1;
}

static int on_value(http_parser *hp, const char *at, size_t n)
{
	struct parse *p = hp->data;
	if ((p->header_bytes += n) > HEADER_MAX)
		return 1;
	p->in_value = true;
	if (p->rs->n_headers >= HTTP_MAX_HEADERS)
		return 0;
	char **v = &p->rs->values[p->rs->n_headers];
	return (*v = append(*v, at, n)) ? 0 : 1;
}

static int on_headers_complete(http_parser *hp)
{
	struct parse *p = hp->data;
	if (p->in_value) {
		p->in_value = false;
		p->rs->n_headers++;
	}
	if (p->rs->n_headers > HTTP_MAX_HEADERS)
		p->rs->n_headers = HTTP_MAX_HEADERS;
	p->rs->status = hp->status_code;
	return p->head ? 1 : 0;   /* a response to HEAD has no body */
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
	struct parse *p = hp->data;
	struct http_resp *rs = p->rs;
	rs->received += n;
	/* only a 2xx body goes to the sink; an error body is kept (small) for the message */
	if (p->rq->sink && rs->status / 100 == 2) {
		int r = p->rq->sink(p->rq->sink_ctx, rs->status, at, n);
		if (r < 0) {
			p->sink_err = r;
			return 1;
		}
		return 0;
	}
	size_t max = p->rq->sink ? 4096 : p->rq->body_max;
	if (rs->body_len + n > max) {
		if (p->rq->sink)
			return 0;   /* an error body longer than we show: drop the rest */
		p->sink_err = -EFBIG;
		return 1;
	}
	if (rs->body_len + n + 1 > p->cap) {
		size_t nc = (rs->body_len + n + 1) * 2;
		char *b = realloc(rs->body, nc);
		if (!b) {
			p->sink_err = -ENOMEM;
			return 1;
		}
		rs->body = b;
		p->cap = nc;
	}
	memcpy(rs->body + rs->body_len, at, n);
	rs->body_len += n;
	rs->body[rs->body_len] = 0;
	return 0;
}

static int on_complete(http_parser *hp)
{
	((struct parse *)hp->data)->done = true;
	return 0;
}

const char *http_header(const struct http_resp *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_headers; i++)
		if (rs->names[i] && !strcasecmp(rs->names[i], name))
			return rs->values[i] ? rs->values[i] : "";
	return NULL;
}

void http_resp_free(struct http_resp *rs)
{
	for (size_t i = 0; i < HTTP_MAX_HEADERS; i++) {
		free(rs->names[i]);
		free(rs->values[i]);
	}
	free(rs->body);
	memset(rs, 0, sizeof(*rs));
}

int http_do(const struct http_req *rq, struct http_resp *rs, cap_err *err)
{
	const struct http_url *u = rq->url;
	struct conn c;
	char *head = NULL;
	int r;

	memset(rs, 0, sizeof(*rs));
	if ((r = conn_open(&c, u, rq->tls_verify, err)) < 0)
		goto out;
	size_t hl = 0;
	FILE *m = open_memstream(&head, &hl);
	if (!m) {
		r = cap_errf(err, ENOMEM, "%s", u->host);
		goto out;
	}
	bool default_port = !strcmp(u->port, u->tls ? "443" : "80");
	bool v6 = strchr(u->host, ':') != NULL;
	fprintf(m, "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: capsule/" CAPSULE_VERSION "\r\nConnection: close\r\n",
		rq->method, u->path, v6 ? "[" : "", u->host, v6 ? "]" : "", default_port ? "" : ":",
		default_port ? "" : u->port);
	for (const char *const *h = rq->headers; h && *h; h++)
		fprintf(m, "%s\r\n", *h);
	if (rq->body || rq->body_fd >= 0 || !strcmp(rq->method, "PUT") || !strcmp(rq->method, "POST"))
		fprintf(m, "Content-Length: %llu\r\n",
			rq->body_fd >= 0 ? rq->body_fd_len : (unsigned long long)rq->body_len);
	fputs("\r\n", m);
	if (fclose(m) != 0) {
		r = cap_errf(err, ENOMEM, "%s", u->host);
		goto out;
	}
	if ((r = conn_write(&c, head, hl)) < 0 || (rq->body && (r = conn_write(&c, rq->body, rq->body_len)) < 0)) {
		r = cap_errf(err, -r, "%s: sending the request", u->host);
		goto out;
	}
	if (rq->body_fd >= 0) {
		char buf[1 << 16];
		unsigned long long left = rq->body_fd_len;
		while (left) {
			ssize_t n = read(rq->body_fd, buf, left < sizeof(buf) ? left : sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = cap_errf(err, n < 0 ? errno : EIO, "%s: reading the upload", u->host);
				goto out;
			}
			if ((r = conn_write(&c, buf, (size_t)n)) < 0) {
				r = cap_errf(err, -r, "%s: sending the upload", u->host);
				goto out;
			}
			left -= (unsigned long long)n;
		}
	}
	http_parser hp;
	http_parser_settings ps = { .on_header_field = on_field, .on_header_value = on_value,
				    .on_headers_complete = on_headers_complete, .on_body = on_body,
				    .on_message_complete = on_complete };
	struct parse p = { .rq = rq, .rs = rs, .head = !strcmp(rq->method, "HEAD") };
	http_parser_init(&hp, HTTP_RESPONSE);
	hp.data = &p;
	char buf[1 << 16];
	while (!p.done) {
		ssize_t n = conn_read(&c, buf, sizeof(buf));
		if (n < 0) {
			r = cap_errf(err, -(int)n, "%s: reading the response", u->host);
			goto out;
		}
		size_t used = http_parser_execute(&hp, &ps, buf, (size_t)n);
		if (p.sink_err) {
			r = p.sink_err == -EFBIG ? cap_errf(err, 0, "%s %s: the response is too large", rq->method, u->path)
						 : p.sink_err;
			goto out;
		}
		if (p.done)
			break;
		if (HTTP_PARSER_ERRNO(&hp) != HPE_OK || used != (size_t)n) {
			r = cap_errf(err, 0, "%s: a bad HTTP response: %s", u->host,
				     http_errno_description(HTTP_PARSER_ERRNO(&hp)));
			goto out;
		}
		if (n == 0) {
			r = cap_errf(err, ECONNRESET, "%s: the response ended early (%llu body bytes)", u->host,
				     rs->received);
			goto out;
		}
	}
	r = 0;
out:
	free(head);
	conn_close(&c);
	if (r < 0) {
		/* keep what a caller resuming a download needs: how much arrived */
		unsigned long long got = rs->received;
		int st = rs->status;
		http_resp_free(rs);
		rs->received = got;
		rs->status = st;
	}
	return r;
}
