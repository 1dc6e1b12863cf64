#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../lib/log.h"
#include "challenge.h"
#include "fsutil.h"
#include "http.h"
#include "import.h"
#include "layer.h"
#include "progress.h"
#include "registry.h"

#define ACCEPT_MANIFESTS                                                                        \
	"Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST
#define RETRIES 3

/* ---- references ---- */

int image_ref_parse(const char *in, struct image_ref *r, cap_err *err)
{
	char buf[1024];
	memset(r, 0, sizeof(*r));
	if (snprintf(buf, sizeof(buf), "%s", in) >= (int)sizeof(buf) || !*in)
		return cap_errf(err, 0, "image reference '%.200s': empty or too long", in);
	char *at = strchr(buf, '@');
	if (at) {
		*at = 0;
		if (!digest_valid(at + 1))
			return cap_errf(err, 0, "image reference '%.200s': '%.100s' is not a sha256 digest", in, at + 1);
		memcpy(r->digest, at + 1, DIGEST_STR_LEN + 1);
	}
	char *rest = buf, *slash = strchr(buf, '/');
	if (slash && (memchr(buf, '.', (size_t)(slash - buf)) || memchr(buf, ':', (size_t)(slash - buf)) ||
		      (slash - buf == 9 && !strncmp(buf, "localhost", 9)))) {
		*slash = 0;
		if (strlen(buf) >= sizeof(r->host))
			return cap_errf(err, 0, "image reference '%.200s': host too long", in);
		memcpy(r->host, buf, strlen(buf) + 1);
		rest = slash + 1;
	} else {
		snprintf(r->host, sizeof(r->host), "docker.io");
	}
	snprintf(r->api_host, sizeof(r->api_host), "%s", strcmp(r->host, "docker.io") ? r->host : "registry-1.docker.io");
	char *colon = strrchr(rest, ':');
	if (colon && !strchr(colon, '/')) {
		if (!colon[1])
			return cap_errf(err, 0, "image reference '%.200s': an empty tag", in);
		*colon = 0;
		if (strlen(colon + 1) >= sizeof(r->tag))
			return cap_errf(err, 0, "image reference '%.200s': tag too long", in);
		memcpy(r->tag, colon + 1, strlen(colon + 1) + 1);
	} else if (!*r->digest) {
		snprintf(r->tag, sizeof(r->tag), "latest");
	}
	int n = snprintf(r->repo, sizeof(r->repo), "%s%s", !strcmp(r->host, "docker.io") && !strchr(rest, '/') ? "library/" : "",
			 rest);
	if (n < 0 || (size_t)n >= sizeof(r->repo) || !*rest)
		return cap_errf(err, 0, "image reference '%.200s': no repository", in);
	snprintf(r->name, sizeof(r->name), "%s/%s:%s", r->host, r->repo, *r->tag ? r->tag : "latest");
	if (!store_name_valid(r->name))
		return cap_errf(err, 0, "image reference '%.200s': not a valid NAME[:TAG][@DIGEST]", in);
	return 0;
}

/* ---- requests, with credentials, tokens and redirects ---- */

struct reg {
	struct image_ref ref;
	bool tls_verify, plain;
	struct reg_creds creds;   /* from the auth file (set: there are some) */
	char *auth;      /* "Authorization: Basic|Bearer ..." once the registry asked for it */
	bool basic;      /* auth is our basic credentials (not a token) */
	bool login;      /* capsule login's check: no "capsule login" hint in errors */
	char what[1200]; /* the reference, for errors */
};

static bool loopback(const char *host)
{
	return !strcmp(host, "localhost") || !strncmp(host, "localhost:", 10) || !strncmp(host, "127.", 4) ||
	       !strncmp(host, "[::1]", 5);
}

static int reg_url(struct reg *g, struct http_url *u, cap_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int reg_url(struct reg *g, struct http_url *u, cap_err *err, const char *fmt, ...)
{
	char path[3072], url[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(path))
		return cap_errf(err, ENAMETOOLONG, "%s", g->what);
	snprintf(url, sizeof(url), "%s://%s/v2/%s%s", g->plain ? "http" : "https", g->ref.api_host, g->ref.repo, path);
	return http_url_parse(url, u, err);
}

/* The registry's own words for a failed request: {"errors":[{"code":..., "message":...}]}. */
static void status_error(struct reg *g, const char *what, const struct http_resp *rs, cap_err *err)
{
	json_t *j = rs->body ? json_loadb(rs->body, rs->body_len, 0, NULL) : NULL;
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));
	if (code)
		cap_errf(err, 0, "%s: %s: HTTP %d (%s: %.200s)", g->what, what, rs->status, code, msg ? msg : "");
	else
		cap_errf(err, 0, "%s: %s: HTTP %d", g->what, what, rs->status);
	json_decref(j);
}

static char *urlencode(const char *s)
{
	size_t n = strlen(s);
	char *o = malloc(n * 3 + 1), *p = o;
	if (!o)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
			*p++ = (char)c;
		else
			p += sprintf(p, "%%%02X", c);
	}
	*p = 0;
	return o;
}

static int set_auth(struct reg *g, const char *scheme, const char *cred, bool basic)
{
	char *a = NULL;
	if (asprintf(&a, "Authorization: %s %s", scheme, cred) < 0)
		return -ENOMEM;
	if (g->auth) {
		OPENSSL_cleanse(g->auth, strlen(g->auth));
		free(g->auth);
	}
	g->auth = a;
	g->basic = basic;
	return 0;
}

/* "capsule login HOST" is the way out of a missing or refused login. */
static int login_error(struct reg *g, const char *why, cap_err *err)
{
	const char *hint = g->login ? "" : ": capsule login ", *h = g->login ? "" : g->ref.host;
	if (g->creds.set)
		return cap_errf(err, 0, "%s: %s refused the login of '%s' (%s)%s%s", g->what, g->ref.host, g->creds.user,
				why, hint, h);
	return cap_errf(err, 0, "%s: %s wants a login (%s)%s%s", g->what, g->ref.host, why, hint, h);
}

/* Bearer realm="...",service="...",scope="..." -> a token from the realm, asked for with our
 * basic credentials when we have some. */
static int get_token(struct reg *g, const struct auth_challenge *ch, cap_err *err)
{
	if (!*ch->realm)
		return cap_errf(err, 0, "%s: a bearer challenge without a realm", g->what);
	char *es = urlencode(ch->service), *esc = urlencode(ch->scope), url[4200];
	int n = snprintf(url, sizeof(url), "%s%sservice=%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
			 es ? es : "", *ch->scope ? "&scope=" : "", *ch->scope && esc ? esc : "");
	free(es);
	free(esc);
	if (n < 0 || (size_t)n >= sizeof(url))
		return cap_errf(err, 0, "%s: the token realm is too long", g->what);
	struct http_url u;
	int r = http_url_parse(url, &u, err);
	if (r < 0)
		return r;
	if (!u.tls && !loopback(u.host) && g->tls_verify)
		return cap_errf(err, 0, "%s: the token service %s is plain HTTP: refused", g->what, u.host);
	char *basic = NULL;
	const char *hdrs[2] = { NULL, NULL };
	if (g->creds.set) {
		char *b64 = authfile_encode(g->creds.user, g->creds.pass);
		if (!b64 || asprintf(&basic, "Authorization: Basic %s", b64) < 0)
			basic = NULL;
		if (b64) {
			OPENSSL_cleanse(b64, strlen(b64));
			free(b64);
		}
		if (!basic)
			return cap_errf(err, ENOMEM, "%s", g->what);
		hdrs[0] = basic;
	}
	struct http_req rq = { .method = "GET", .url = &u, .headers = hdrs, .body_fd = -1, .tls_verify = g->tls_verify,
			       .body_max = 65536 };
	struct http_resp rs;
	r = http_do(&rq, &rs, err);
	if (basic) {
		OPENSSL_cleanse(basic, strlen(basic));
		free(basic);
	}
	if (r < 0)
		return r;
	if (rs.status == 401 || rs.status == 403) {
		char why[300];
		snprintf(why, sizeof(why), "the token service %.200s:%s: HTTP %d", u.host, u.port, rs.status);
		http_resp_free(&rs);
		return login_error(g, why, err);
	}
	json_t *j = rs.status == 200 ? json_loadb(rs.body ? rs.body : "", rs.body_len, 0, NULL) : NULL;
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	/* a token goes into a header line: nothing that could end or bend it */
	if (!tok || !*tok || strlen(tok) > 16384 || tok[strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
							     "0123456789-._~+/=")])
		r = cap_errf(err, 0, "%s: no usable token from %s (HTTP %d)", g->what, u.host, rs.status);
	else
		r = set_auth(g, "Bearer", tok, false) < 0 ? cap_errf(err, ENOMEM, "%s", g->what) : 0;
	json_decref(j);
	http_resp_free(&rs);
	return r;
}

/* A 401: do what its challenge asks (basic credentials, or a token for the scope it names).
 * again: the request was already sent with what an earlier 401 asked for. */
static int answer_challenge(struct reg *g, const char *hdr, bool again, cap_err *err)
{
	struct auth_challenge ch;
	if (!hdr)
		return login_error(g, "HTTP 401 without a challenge", err);
	if (auth_challenge_parse(hdr, strlen(hdr), &ch) < 0)
		return cap_errf(err, 0, "%s: %s sent a malformed WWW-Authenticate header", g->what, g->ref.host);
	if (ch.scheme == AUTH_SCHEME_BASIC) {
		if (!g->creds.set || again)
			return login_error(g, "HTTP 401", err);
		char *b64 = authfile_encode(g->creds.user, g->creds.pass);
		int r = b64 ? set_auth(g, "Basic", b64, true) : -ENOMEM;
		if (b64) {
			OPENSSL_cleanse(b64, strlen(b64));
			free(b64);
		}
		return r < 0 ? cap_errf(err, ENOMEM, "%s", g->what) : 0;
	}
	if (ch.scheme == AUTH_SCHEME_BEARER) {
		if (again) {
			char why[1200];
			snprintf(why, sizeof(why), "HTTP 401%s%s%s%s", *ch.error ? ", " : "", ch.error,
				 *ch.scope ? " for " : "", ch.scope);
			return login_error(g, why, err);
		}
		return get_token(g, &ch, err);
	}
	return cap_errf(err, 0, "%s: %s wants '%s' authentication, which capsule does not speak", g->what,
			g->ref.host, ch.other);
}

/* One request to the registry: what a 401 asks for is answered and the request sent again
 * (once), redirects followed (to another host without our Authorization). */
static int reg_do(struct reg *g, struct http_req *rq, const char *const *extra, struct http_resp *rs, cap_err *err)
{
	const char *hdrs[12];
	struct http_url cur = *rq->url;
	bool same_host = true, retried = false;
	for (int hop = 0; hop < 7; hop++) {
		size_t n = 0;
		for (const char *const *h = extra; h && *h && n < 9; h++)
			hdrs[n++] = *h;
		if (g->auth && same_host)
			hdrs[n++] = g->auth;
		hdrs[n] = NULL;
		rq->headers = hdrs;
		rq->url = &cur;
		int r = http_do(rq, rs, err);
		if (r < 0) {
			cap_err_prefix(err, "%s", g->what);
			return r;
		}
		if (rs->status == 401 && same_host) {
			/* sent with a token for another scope (or none): that is a new challenge, not a refusal */
			char *ch = http_header(rs, "WWW-Authenticate") ? strdup(http_header(rs, "WWW-Authenticate")) : NULL;
			http_resp_free(rs);
			r = answer_challenge(g, ch, retried, err);
			free(ch);
			if (r < 0)
				return r;
			retried = true;
			if (rq->body_fd >= 0 && lseek(rq->body_fd, 0, SEEK_SET) < 0)
				return cap_errf(err, errno, "%s: upload", g->what);
			continue;
		}
		const char *loc = http_header(rs, "Location");
		bool redirect = rs->status == 301 || rs->status == 302 || rs->status == 303 || rs->status == 307 ||
				rs->status == 308;
		if (!redirect || !loc || (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")))
			return 0;
		struct http_url next;
		r = http_url_join(&cur, loc, &next, err);
		http_resp_free(rs);
		if (r < 0)
			return r;
		if (cur.tls && !next.tls)
			return cap_errf(err, 0, "%s: a redirect from HTTPS to plain HTTP (%s): refused", g->what, next.host);
		same_host = same_host && !strcmp(next.host, g->ref.api_host);
		cur = next;
	}
	return cap_errf(err, 0, "%s: too many redirects", g->what);
}

static void reg_setup(struct reg *g, const struct registry_opts *o)
{
	g->tls_verify = o->tls_verify;
	g->plain = !o->tls_required && (loopback(g->ref.api_host) || !o->tls_verify);
}

static int reg_open(struct reg *g, const char *ref, const struct registry_opts *o, cap_err *err)
{
	memset(g, 0, sizeof(*g));
	int r = image_ref_parse(ref, &g->ref, err);
	if (r < 0)
		return r;
	reg_setup(g, o);
	snprintf(g->what, sizeof(g->what), "%s", ref);
	if (*o->authfile && (r = authfile_get(o->authfile, g->ref.host, g->ref.repo, &g->creds, err)) < 0)
		return r;
	return 0;
}

static void reg_close(struct reg *g)
{
	if (g->auth) {
		OPENSSL_cleanse(g->auth, strlen(g->auth));
		free(g->auth);
	}
	g->auth = NULL;
	OPENSSL_cleanse(&g->creds, sizeof(g->creds));
}

int registry_login(const char *host, const struct registry_opts *o, const struct reg_creds *creds, cap_err *err)
{
	struct reg g;
	memset(&g, 0, sizeof(g));
	char ref[600];
	snprintf(ref, sizeof(ref), "%.256s/x", host);
	if (image_ref_parse(ref, &g.ref, err) < 0 || strcmp(g.ref.host, host))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "login: '%.200s' is not a registry HOST[:PORT]", host);
	reg_setup(&g, o);
	snprintf(g.what, sizeof(g.what), "login %s", host);
	g.login = true;
	if (creds)
		g.creds = *creds;
	char url[600];
	snprintf(url, sizeof(url), "%s://%s/v2/", g.plain ? "http" : "https", g.ref.api_host);
	struct http_url u;
	int r = http_url_parse(url, &u, err);
	struct http_req rq = { .method = "GET", .url = &u, .body_fd = -1, .tls_verify = g.tls_verify, .body_max = 65536 };
	struct http_resp rs;
	if (r == 0 && (r = reg_do(&g, &rq, NULL, &rs, err)) == 0) {
		if (rs.status != 200) {
			status_error(&g, "GET /v2/", &rs, err);
			r = -EIO;
		}
		http_resp_free(&rs);
	}
	reg_close(&g);
	return r;
}

/* ---- pull ---- */

static int get_manifest(struct reg *g, const char *ref, char digest[DIGEST_STR_LEN + 1], char **body, size_t *len,
			char *mt, size_t mtsz, cap_err *err)
{
	struct http_url u;
	int r = reg_url(g, &u, err, "/manifests/%s", ref);
	if (r < 0)
		return r;
	const char *extra[] = { ACCEPT_MANIFESTS, NULL };
	struct http_req rq = { .method = "GET", .url = &u, .body_fd = -1, .tls_verify = g->tls_verify,
			       .body_max = STORE_JSON_MAX };
	struct http_resp rs;
	if ((r = reg_do(g, &rq, extra, &rs, err)) < 0)
		return r;
	if (rs.status != 200) {
		status_error(g, "manifest", &rs, err);
		http_resp_free(&rs);
		return -ENOENT;
	}
	digest_buffer(rs.body ? rs.body : "", rs.body_len, digest);
	const char *hd = http_header(&rs, "Docker-Content-Digest");
	if (digest_valid(ref) && strcmp(ref, digest)) {
		r = cap_errf(err, 0, "%s: manifest: digest mismatch: content is %s, expected %s", g->what, digest, ref);
	} else if (hd && strcmp(hd, digest)) {
		r = cap_errf(err, 0, "%s: manifest: digest mismatch: content is %s, the registry says %.80s", g->what, digest, hd);
	} else {
		const char *ct = http_header(&rs, "Content-Type");
		snprintf(mt, mtsz, "%.*s", ct ? (int)strcspn(ct, ";") : 0, ct ? ct : "");
		*body = rs.body ? rs.body : strdup("");
		rs.body = NULL;
		*len = rs.body_len;
	}
	http_resp_free(&rs);
	return r;
}

struct blob_sink {
	struct store_writer *w;
	struct store *s;
	_Atomic unsigned long long *counter;   /* parallel pulls: bytes into a shared count, no line */
	bool fresh;          /* the first bytes of this response */
	const char *label;
	unsigned long long size;
	int werr;
};

static int blob_write(void *ctx, int status, const void *buf, size_t n)
{
	struct blob_sink *b = ctx;
	if (b->fresh) {
		b->fresh = false;
		/* a 200 to a Range request is the whole blob again */
		if (status == 200 && b->w->size > 0) {
			if (b->counter)
				*b->counter -= b->w->size;
			if (store_writer_reset(b->w) < 0)
				return b->werr = -EIO;
		}
	}
	int r = store_writer_write(b->w, buf, n);
	if (r < 0)
		return b->werr = r;
	if (b->size && b->w->size > b->size)
		return b->werr = -EFBIG;   /* more than its descriptor says: a hostile registry */
	if (b->counter)
		*b->counter += n;
	else
		progress_step(b->s->progress, b->label, b->w->size, b->size, false);
	return 0;
}

/* A blob into the store, its digest verified; a broken transfer resumes where it stopped
 * (Range), up to RETRIES times. */
static int fetch_blob(struct store *s, struct reg *g, const char *digest, unsigned long long size,
		      _Atomic unsigned long long *counter, cap_err *err)
{
	if (!digest_valid(digest))
		return cap_errf(err, 0, "%s: a descriptor's digest '%.100s' is not sha256", g->what, digest ? digest : "");
	if (store_has_blob(s, digest))
		return 0;
	struct store_writer w;
	int r = store_writer_open(s, &w, err);
	if (r < 0)
		return r;
	char label[64], what[DIGEST_STR_LEN + 1300];
	progress_label(label, sizeof(label), "pull", digest);
	snprintf(what, sizeof(what), "%s: blob %s", g->what, digest);
	if (!counter)
		progress_next(s->progress, true);
	struct blob_sink b = { .w = &w, .s = s, .label = label, .size = size, .counter = counter };
	for (int attempt = 0;; attempt++) {
		struct http_url u;
		if ((r = reg_url(g, &u, err, "/blobs/%s", digest)) < 0)
			break;
		char range[64];
		snprintf(range, sizeof(range), "Range: bytes=%llu-", w.size);
		const char *extra[] = { w.size ? range : NULL, NULL };
		struct http_req rq = { .method = "GET", .url = &u, .body_fd = -1, .tls_verify = g->tls_verify,
				       .sink = blob_write, .sink_ctx = &b };
		struct http_resp rs;
		b.fresh = true;
		b.werr = 0;
		cap_err e = { 0 };
		r = reg_do(g, &rq, extra, &rs, &e);
		if (r == 0 && rs.status != 200 && rs.status != 206) {
			status_error(g, "blob", &rs, err);
			http_resp_free(&rs);
			r = -EIO;
			break;
		}
		http_resp_free(&rs);
		if (r == 0)
			break;
		if (b.werr == -EFBIG) {
			r = cap_errf(err, 0, "%s: more than the %llu bytes its descriptor says: refused", what, size);
			break;
		}
		if (b.werr || attempt + 1 >= RETRIES) {
			*err = e;
			break;
		}
		cap_debug("%s: resuming at byte %llu after: %s", what, w.size, e.msg);
	}
	if (!counter)
		progress_step(s->progress, label, w.size, size, true);
	if (r < 0) {
		store_writer_abort(&w);
		return r;
	}
	if (size && w.size != size) {
		store_writer_abort(&w);
		return cap_errf(err, 0, "%s: %llu bytes, its descriptor says %llu", what, w.size, size);
	}
	char got[DIGEST_STR_LEN + 1];
	return store_writer_commit(s, &w, what, digest, got, err);
}

static unsigned long long desc_size(json_t *d)
{
	json_int_t n = json_integer_value(json_object_get(d, "size"));
	return n > 0 ? (unsigned long long)n : 0;
}

/* Layers come PARALLEL at a time, each worker with its own connection state (and token);
 * the first failure stops the others' next downloads and is the one reported. */
#define PARALLEL 3

struct pull_job {
	struct store *s;
	json_t *layers;
	char (*dids)[DIGEST_STR_LEN + 1];
	size_t next, n;
	int running, r;
	cap_err err;
	pthread_mutex_t lock;
	pthread_cond_t ended;
	_Atomic unsigned long long done;
};

struct pull_worker {
	struct pull_job *job;
	struct reg g;
	pthread_t t;
};

static void *pull_worker(void *arg)
{
	struct pull_worker *w = arg;
	struct pull_job *j = w->job;
	for (;;) {
		pthread_mutex_lock(&j->lock);
		size_t i = j->next++;
		bool stop = j->r < 0 || i >= j->n;
		pthread_mutex_unlock(&j->lock);
		if (stop)
			break;
		json_t *l = json_array_get(j->layers, i);
		const char *ld = json_string_value(json_object_get(l, "digest"));
		char p[PATH_MAX];
		cap_err e = { 0 };
		int r = fetch_blob(j->s, &w->g, ld, desc_size(l), &j->done, &e);
		if (r == 0) {
			store_blob_path(j->s, ld, p, sizeof(p));
			r = layer_diff_id(p, j->dids[i], NULL, &e);
		}
		if (r < 0) {
			pthread_mutex_lock(&j->lock);
			if (j->r == 0) {
				j->r = r;
				j->err = e;
			}
			pthread_mutex_unlock(&j->lock);
			break;
		}
	}
	pthread_mutex_lock(&j->lock);
	j->running--;
	pthread_cond_signal(&j->ended);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

static int fetch_layers(struct store *s, struct reg *g, json_t *layers, char (*dids)[DIGEST_STR_LEN + 1], cap_err *err)
{
	struct pull_job j = { .s = s, .layers = layers, .dids = dids, .n = json_array_size(layers) };
	struct pull_worker w[PARALLEL];
	unsigned long long total = 0;
	size_t nw = j.n < PARALLEL ? j.n : PARALLEL, started = 0;
	for (size_t i = 0; i < j.n; i++)
		total += desc_size(json_array_get(layers, i));
	pthread_mutex_init(&j.lock, NULL);
	pthread_cond_init(&j.ended, NULL);
	for (; started < nw; started++) {
		w[started].job = &j;
		w[started].g = *g;
		w[started].g.auth = g->auth ? strdup(g->auth) : NULL;
		pthread_mutex_lock(&j.lock);
		j.running++;
		pthread_mutex_unlock(&j.lock);
		if (pthread_create(&w[started].t, NULL, pull_worker, &w[started]) != 0) {
			pthread_mutex_lock(&j.lock);
			j.running--;
			if (j.r == 0)
				j.r = cap_errf(&j.err, EAGAIN, "%s: a download thread", g->what);
			pthread_mutex_unlock(&j.lock);
			free(w[started].g.auth);
			break;
		}
	}
	char label[64];
	snprintf(label, sizeof(label), "pull %zu layer%s", j.n, j.n == 1 ? "" : "s");
	progress_next(s->progress, true);
	pthread_mutex_lock(&j.lock);
	while (j.running > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&j.ended, &j.lock, &ts);
		pthread_mutex_unlock(&j.lock);
		progress_step(s->progress, label, j.done, total, false);
		pthread_mutex_lock(&j.lock);
	}
	pthread_mutex_unlock(&j.lock);
	progress_step(s->progress, label, j.done, total, true);
	for (size_t i = 0; i < started; i++) {
		pthread_join(w[i].t, NULL);
		reg_close(&w[i].g);
	}
	pthread_cond_destroy(&j.ended);
	pthread_mutex_destroy(&j.lock);
	if (j.r < 0) {
		*err = j.err;
		return j.r;
	}
	return 0;
}

int registry_pull(struct store *s, const char *ref, const struct registry_opts *o, char id[DIGEST_STR_LEN + 1],
		  cap_err *err)
{
	struct reg g;
	int r = reg_open(&g, ref, o, err);
	if (r < 0)
		return r;
	char mdig[DIGEST_STR_LEN + 1], mt[128];
	char *body = NULL;
	size_t len;
	json_t *m = NULL, *pending = NULL;
	char (*dids)[DIGEST_STR_LEN + 1] = NULL;
	if ((r = get_manifest(&g, *g.ref.digest ? g.ref.digest : g.ref.tag, mdig, &body, &len, mt, sizeof(mt), err)) < 0)
		goto out;
	for (int depth = 0;; depth++) {
		json_decref(m);
		m = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(m)) {
			r = cap_errf(err, 0, "%s: manifest %s is not a JSON object", ref, mdig);
			goto out;
		}
		const char *jmt = json_string_value(json_object_get(m, "mediaType"));
		if (jmt)
			snprintf(mt, sizeof(mt), "%s", jmt);
		if (strcmp(mt, MT_OCI_INDEX) && strcmp(mt, MT_DOCKER_LIST))
			break;
		json_t *pick = image_pick_platform(m);
		const char *pd = json_string_value(json_object_get(pick, "digest"));
		if (!pick || !digest_valid(pd)) {
			r = cap_errf(err, 0, "%s: the manifest list has no manifest for linux/%s", ref, image_host_arch());
			goto out;
		}
		if (depth >= 2) {
			r = cap_errf(err, 0, "%s: manifest lists nested too deep", ref);
			goto out;
		}
		char want[DIGEST_STR_LEN + 1];
		memcpy(want, pd, sizeof(want));
		free(body);
		body = NULL;
		if ((r = get_manifest(&g, want, mdig, &body, &len, mt, sizeof(mt), err)) < 0)
			goto out;
	}
	if (*mt && strcmp(mt, MT_OCI_MANIFEST) && strcmp(mt, MT_DOCKER_MANIFEST)) {
		r = cap_errf(err, 0, "%s: manifest %s has media type %s, not an image manifest", ref, mdig, mt);
		goto out;
	}
	json_t *cfg = json_object_get(m, "config"), *layers = json_object_get(m, "layers");
	const char *cd = json_string_value(json_object_get(cfg, "digest"));
	if (!digest_valid(cd) || !json_is_array(layers)) {
		r = cap_errf(err, 0, "%s: manifest %s lacks a config or layers", ref, mdig);
		goto out;
	}
	if ((r = fetch_blob(s, &g, cd, desc_size(cfg), NULL, err)) < 0)
		goto out;
	size_t nl = json_array_size(layers);
	dids = calloc(nl + 1, sizeof(*dids));
	if (!dids) {
		r = cap_errf(err, ENOMEM, "%s", ref);
		goto out;
	}
	if ((r = fetch_layers(s, &g, layers, dids, err)) < 0)
		goto out;
	char got[DIGEST_STR_LEN + 1];
	if ((r = store_put_buf(s, body, len, mdig, got, err)) < 0)
		goto out;
	pending = json_pack("{s:[]}", "images");
	const char *names[1] = { g.ref.name };
	r = image_finish(s, pending, ref, cd, (size_t)desc_size(cfg), layers, dids, mdig, names, *g.ref.tag ? 1 : 0, id,
			 err);
	if (r == 0)
		r = image_add_names(s, pending, err);
out:
	free(dids);
	free(body);
	json_decref(m);
	json_decref(pending);
	reg_close(&g);
	return r;
}

/* ---- push ---- */

static int push_blob(struct store *s, struct reg *g, const char *digest, cap_err *err)
{
	struct http_url u;
	struct http_resp rs;
	int r = reg_url(g, &u, err, "/blobs/%s", digest);
	if (r < 0)
		return r;
	struct http_req head = { .method = "HEAD", .url = &u, .body_fd = -1, .tls_verify = g->tls_verify, .body_max = 4096 };
	if ((r = reg_do(g, &head, NULL, &rs, err)) < 0)
		return r;
	int st = rs.status;
	http_resp_free(&rs);
	if (st == 200)
		return 0;   /* the registry has it */
	if ((r = reg_url(g, &u, err, "/blobs/uploads/")) < 0)
		return r;
	struct http_req post = { .method = "POST", .url = &u, .body_fd = -1, .tls_verify = g->tls_verify, .body_max = 4096 };
	if ((r = reg_do(g, &post, NULL, &rs, err)) < 0)
		return r;
	const char *loc = http_header(&rs, "Location");
	if (rs.status != 202 || !loc) {
		status_error(g, "starting an upload", &rs, err);
		http_resp_free(&rs);
		return -EIO;
	}
	char url[4200];
	struct http_url put_u;
	snprintf(url, sizeof(url), "%s%sdigest=%s", loc, strchr(loc, '?') ? "&" : "?", digest);
	r = http_url_join(&u, url, &put_u, err);
	http_resp_free(&rs);
	if (r < 0)
		return r;
	char p[PATH_MAX];
	store_blob_path(s, digest, p, sizeof(p));
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		r = cap_errf(err, errno, "blob %s", digest);
		if (fd >= 0)
			close(fd);
		return r;
	}
	const char *extra[] = { "Content-Type: application/octet-stream", NULL };
	struct http_req put = { .method = "PUT", .url = &put_u, .body_fd = fd, .body_fd_len = (unsigned long long)sb.st_size,
				.tls_verify = g->tls_verify, .body_max = 4096 };
	char label[64];
	progress_label(label, sizeof(label), "push", digest);
	progress_step(s->progress, label, 0, (unsigned long long)sb.st_size, true);
	r = reg_do(g, &put, extra, &rs, err);
	close(fd);
	if (r < 0)
		return r;
	if (rs.status != 201) {
		status_error(g, "uploading a blob", &rs, err);
		r = -EIO;
	}
	http_resp_free(&rs);
	return r;
}

int registry_push(struct store *s, const char *image, const char *dest, const struct registry_opts *o,
		  char id[DIGEST_STR_LEN + 1], cap_err *err)
{
	json_t *images = store_images_load(s, err), *img = images ? store_images_find(images, image, err) : NULL;
	if (!img) {
		json_decref(images);
		return -ENOENT;
	}
	struct store_image si;
	int r = store_image_load(s, json_string_value(json_object_get(img, "id")), &si, err);
	json_decref(images);
	if (r < 0)
		return r;
	struct reg g;
	char *body = NULL;
	if ((r = reg_open(&g, dest ? dest : image, o, err)) < 0)
		goto out;
	if (*g.ref.digest) {
		r = cap_errf(err, 0, "push %s: give a tag, not a digest", dest ? dest : image);
		goto out;
	}
	progress_next(s->progress, false);
	for (size_t i = 0; i < si.n_layers; i++)
		if ((r = push_blob(s, &g, si.layers[i], err)) < 0)
			goto out;
	const char *cd = json_string_value(json_object_get(json_object_get(si.manifest, "config"), "digest"));
	if ((r = push_blob(s, &g, cd, err)) < 0)
		goto out;
	/* the manifest's own bytes (its digest is the image id) */
	char p[PATH_MAX];
	size_t len;
	store_blob_path(s, si.id, p, sizeof(p));
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read_fd_all(fd, STORE_JSON_MAX, &body, &len) < 0) {
		r = cap_errf(err, errno, "manifest %s", si.id);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	const char *mt = json_string_value(json_object_get(si.manifest, "mediaType")) ?: MT_OCI_MANIFEST;
	char ct[200];
	snprintf(ct, sizeof(ct), "Content-Type: %s", mt);
	const char *extra[] = { ct, NULL };
	struct http_url u;
	if ((r = reg_url(&g, &u, err, "/manifests/%s", g.ref.tag)) < 0)
		goto out;
	struct http_req put = { .method = "PUT", .url = &u, .body = body, .body_len = len, .body_fd = -1,
				.tls_verify = g.tls_verify, .body_max = 4096 };
	struct http_resp rs;
	if ((r = reg_do(&g, &put, extra, &rs, err)) < 0)
		goto out;
	const char *hd = http_header(&rs, "Docker-Content-Digest");
	if (rs.status != 201) {
		status_error(&g, "manifest", &rs, err);
		r = -EIO;
	} else if (hd && strcmp(hd, si.id)) {
		r = cap_errf(err, 0, "%s: the registry stored the manifest as %.80s, not %s", g.what, hd, si.id);
	} else {
		memcpy(id, si.id, DIGEST_STR_LEN + 1);
	}
	http_resp_free(&rs);
out:
	free(body);
	reg_close(&g);
	store_image_free(&si);
	return r;
}
