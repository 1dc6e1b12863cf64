#include <errno.h>
#include <string.h>
#include <strings.h>

#include "challenge.h"

/* RFC 7230 tchar */
static int tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int token68char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("-._~+/", c));
}

struct cursor {
	const char *p, *end;
};

static void skip_ows(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static size_t token_len(const struct cursor *c)
{
	size_t n = 0;
	while (c->p + n < c->end && tchar((unsigned char)c->p[n]))
		n++;
	return n;
}

/* A quoted-string at c->p into dst (cap bytes with the NUL; dst NULL: skipped). */
static int quoted(struct cursor *c, char *dst, size_t cap)
{
	size_t n = 0;
	c->p++; /* the opening quote */
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p++;
		if (ch == '"') {
			if (dst)
				dst[n] = 0;
			return 0;
		}
		if (ch == '\\') {
			if (c->p >= c->end)
				return -EINVAL;
			ch = (unsigned char)*c->p++;
		}
		if ((ch < ' ' && ch != '\t') || ch == 0x7f)
			return -EINVAL;
		if (dst) {
			if (n + 1 >= cap)
				return -EINVAL;
			dst[n++] = (char)ch;
		}
	}
	return -EINVAL; /* no closing quote */
}

static char *param_dst(struct auth_challenge *ch, const char *name, size_t nl, size_t *cap)
{
#define P(field)                                                                          \
	if (nl == sizeof(#field) - 1 && !strncasecmp(name, #field, nl)) {                  \
		*cap = sizeof(ch->field);                                                  \
		return ch->field;                                                          \
	}
	P(realm) P(service) P(scope) P(error)
#undef P
	return NULL;
}

static int rank(enum auth_scheme s)
{
	return s == AUTH_SCHEME_BEARER ? 3 : s == AUTH_SCHEME_BASIC ? 2 : s == AUTH_SCHEME_OTHER ? 1 : 0;
}

int auth_challenge_parse(const char *hdr, size_t len, struct auth_challenge *out)
{
	struct auth_challenge best, cur;
	memset(&best, 0, sizeof(best));
	memset(&cur, 0, sizeof(cur));
	struct cursor c = { hdr, hdr + len };
	int have_cur = 0;
	/* a parameter already given in the current challenge is not given again */
	unsigned seen = 0;
	for (;;) {
		skip_ows(&c);
		while (c.p < c.end && (*c.p == ',' || *c.p == ' ' || *c.p == '\t'))
			c.p++;
		if (c.p >= c.end)
			break;
		const char *name = c.p;
		size_t nl = token_len(&c);
		if (nl == 0)
			return -EINVAL;
		c.p += nl;
		struct cursor look = c;
		skip_ows(&look);
		if (have_cur && look.p < look.end && *look.p == '=') {
			/* name = value: a parameter of the current challenge */
			c.p = look.p + 1;
			skip_ows(&c);
			size_t cap = 0;
			char *dst = param_dst(&cur, name, nl, &cap);
			unsigned bit = dst == cur.realm ? 1 : dst == cur.service ? 2 : dst == cur.scope ? 4 : dst ? 8 : 0;
			if (bit & seen)
				dst = NULL; /* the first one counts */
			seen |= bit;
			if (c.p < c.end && *c.p == '"') {
				if (quoted(&c, dst, cap) < 0)
					return -EINVAL;
			} else {
				size_t vl = token_len(&c);
				if (vl == 0)
					return -EINVAL;
				if (dst) {
					if (vl >= cap)
						return -EINVAL;
					memcpy(dst, c.p, vl);
					dst[vl] = 0;
				}
				c.p += vl;
			}
			skip_ows(&c);
			if (c.p < c.end && *c.p != ',')
				return -EINVAL;
			continue;
		}
		/* a new challenge: the previous one is complete */
		if (have_cur && rank(cur.scheme) > rank(best.scheme))
			best = cur;
		memset(&cur, 0, sizeof(cur));
		seen = 0;
		have_cur = 1;
		if (nl == 5 && !strncasecmp(name, "Basic", 5)) {
			cur.scheme = AUTH_SCHEME_BASIC;
		} else if (nl == 6 && !strncasecmp(name, "Bearer", 6)) {
			cur.scheme = AUTH_SCHEME_BEARER;
		} else {
			cur.scheme = AUTH_SCHEME_OTHER;
			size_t k = nl < sizeof(cur.other) - 1 ? nl : sizeof(cur.other) - 1;
			memcpy(cur.other, name, k);
			cur.other[k] = 0;
		}
		/* "Scheme token68": token68 characters, '='s, then the end or a comma (an auth-param
		 * has a value after its '=') */
		skip_ows(&c);
		struct cursor t = c;
		while (t.p < t.end && token68char((unsigned char)*t.p))
			t.p++;
		if (t.p > c.p) {
			while (t.p < t.end && *t.p == '=')
				t.p++;
			skip_ows(&t);
			if (t.p >= t.end || *t.p == ',')
				c.p = t.p;
		}
	}
	if (have_cur && rank(cur.scheme) > rank(best.scheme))
		best = cur;
	if (best.scheme == AUTH_SCHEME_NONE)
		return -EINVAL;
	*out = best;
	return 0;
}
