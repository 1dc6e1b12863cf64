#include "envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An env file is at most this big: a larger one is a mistake (a binary named by accident). */
#define ENV_FILE_MAX (16u << 20)

int envlist_add(struct envlist *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v, l->cap = cap;
	}
	char *c = malloc(len + 1);
	if (!c)
		return -ENOMEM;
	memcpy(c, s, len);
	c[len] = 0;
	l->v[l->n++] = c;
	return 0;
}

void envlist_free(struct envlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct envlist){ 0 };
}

/* Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
static bool utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		size_t k;
		unsigned min, cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			k = 1, min = 0x80, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			k = 2, min = 0x800, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			k = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int one_line(const char *name, unsigned lineno, const char *p, size_t n, struct envlist *out, cap_err *err)
{
	if (memchr(p, 0, n))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s:%u: a NUL byte", name, lineno);
	if (!utf8_valid((const unsigned char *)p, n))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s:%u: not UTF-8", name, lineno);
	while (n && blank(*p))
		p++, n--;
	if (n && p[n - 1] == '\r') /* a file written on Windows */
		n--;
	if (n == 0 || *p == '#')
		return 0;
	const char *eq = memchr(p, '=', n);
	size_t klen = eq ? (size_t)(eq - p) : n;
	if (klen == 0)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s:%u: no variable name before '='", name, lineno);
	for (size_t i = 0; i < klen; i++)
		if (blank(p[i]))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s:%u: variable '%.*s' contains a blank", name, lineno,
					     (int)(klen > 200 ? 200 : klen), p);
	int r;
	if (eq) {
		r = envlist_add(out, p, n);
	} else {
		char key[4096];
		if (klen >= sizeof(key))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s:%u: variable name longer than %zu bytes", name,
					     lineno, sizeof(key) - 1);
		memcpy(key, p, klen);
		key[klen] = 0;
		const char *val = getenv(key);
		if (!val)
			return 0; /* unset in the caller's environment: nothing, as docker */
		size_t vlen = strlen(val);
		char *kv = malloc(klen + 1 + vlen + 1);
		if (!kv)
			return cap_errf(err, ENOMEM, "%s", name);
		memcpy(kv, key, klen);
		kv[klen] = '=';
		memcpy(kv + klen + 1, val, vlen + 1);
		r = envlist_add(out, kv, klen + 1 + vlen);
		free(kv);
	}
	return r < 0 ? cap_errf(err, -r, "%s", name) : 0;
}

int engine_env_parse(const char *name, const char *text, size_t len, struct envlist *out, cap_err *err)
{
	/* A byte-order mark some editors write at the start is not part of the first key. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		text += 3, len -= 3;
	unsigned lineno = 0;
	size_t at = 0;
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		int r = one_line(name, ++lineno, text + at, n, out, err);
		if (r < 0)
			return r;
		at += n + 1;
	}
	return 0;
}

int engine_env_file_read(const char *path, struct envlist *out, cap_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return cap_errf_code(err, CAP_EXIT_USAGE, errno, "env file %s", path);
	int r = 0;
	if (fstat(fd, &st) < 0)
		r = cap_errf_code(err, CAP_EXIT_USAGE, errno, "env file %s", path);
	else if (!S_ISREG(st.st_mode))
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "env file %s: not a regular file", path);
	else if (st.st_size > ENV_FILE_MAX)
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "env file %s: larger than %u MiB", path, ENV_FILE_MAX >> 20);
	if (r < 0) {
		close(fd);
		return r;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t len = 0;
	ssize_t n;
	if (!buf) {
		close(fd);
		return cap_errf(err, ENOMEM, "env file %s", path);
	}
	while (len < (size_t)st.st_size && (n = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return cap_errf(err, e, "env file %s", path);
		}
		len += (size_t)n;
	}
	close(fd);
	r = engine_env_parse(path, buf, len, out, err);
	free(buf);
	return r;
}
