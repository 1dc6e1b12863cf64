#include "recipe.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bounds on hostile input. */
#define RECIPE_MAX_BYTES (4u << 20)
#define RECIPE_MAX_INSNS 10000
#define RECIPE_MAX_ARGS 4096

static const struct {
	const char *name;
	enum recipe_op op;
} ops[] = {
	{ "FROM", RECIPE_FROM }, { "RUN", RECIPE_RUN }, { "COPY", RECIPE_COPY }, { "ADD", RECIPE_ADD },
	{ "ENV", RECIPE_ENV }, { "ARG", RECIPE_ARG }, { "WORKDIR", RECIPE_WORKDIR }, { "USER", RECIPE_USER },
	{ "ENTRYPOINT", RECIPE_ENTRYPOINT }, { "CMD", RECIPE_CMD }, { "LABEL", RECIPE_LABEL },
	{ "EXPOSE", RECIPE_EXPOSE }, { "VOLUME", RECIPE_VOLUME },
};

const char *recipe_op_name(enum recipe_op op)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == op)
			return ops[i].name;
	return "?";
}

struct parse {
	const char *file;
	int line;
	cap_err *err;
};

static int bad(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct parse *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cap_errf_code(p->err, CAP_EXIT_USAGE, 0, "%s:%d: %s", p->file, p->line, msg);
}

static int add_arg(struct recipe_insn *in, const char *s, size_t n)
{
	if (in->nargs == RECIPE_MAX_ARGS)
		return -E2BIG;
	char **v = realloc(in->args, (in->nargs + 2) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	in->args = v;
	if (!s) {
		v[in->nargs++] = NULL;
		return 0;
	}
	if (!(v[in->nargs] = strndup(s, n)))
		return -ENOMEM;
	in->nargs++;
	return 0;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The JSON exec form: 1 = it was one (args filled), 0 = not JSON, < 0 error. */
static int exec_form(struct parse *p, struct recipe_insn *in, const char *rest)
{
	if (*rest != '[')
		return 0;
	json_error_t je;
	json_t *a = json_loads(rest, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_array(a)) {
		json_decref(a);
		return 0; /* docker falls back to the shell form */
	}
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			json_decref(a);
			return bad(p, "%s: the JSON form takes strings only", recipe_op_name(in->op));
		}
		if (add_arg(in, json_string_value(v), json_string_length(v)) < 0) {
			json_decref(a);
			return bad(p, "too many arguments");
		}
	}
	json_decref(a);
	in->exec_form = true;
	return 1;
}

/* Whitespace-separated words. */
static int words(struct parse *p, struct recipe_insn *in, const char *s)
{
	for (s = skip_ws(s); *s; s = skip_ws(s)) {
		size_t n = strcspn(s, " \t");
		if (add_arg(in, s, n) < 0)
			return bad(p, "too many arguments");
		s += n;
	}
	return 0;
}

/* KEY=VALUE pairs, values "quoted", 'quoted' or with \-escapes (ENV, LABEL, ARG). */
static int pairs(struct parse *p, struct recipe_insn *in, const char *s, bool value_optional)
{
	char *buf = malloc(strlen(s) + 1);
	if (!buf)
		return bad(p, "out of memory");
	int r = 0;
	for (s = skip_ws(s); *s && r == 0; s = skip_ws(s)) {
		size_t k = strcspn(s, "= \t");
		if (k == 0) {
			r = bad(p, "%s: an empty name", recipe_op_name(in->op));
			break;
		}
		if (add_arg(in, s, k) < 0) {
			r = bad(p, "too many arguments");
			break;
		}
		s += k;
		if (*s != '=') {
			if (!value_optional)
				r = bad(p, "%s: '%.*s' needs =VALUE", recipe_op_name(in->op), (int)k, s - k);
			else
				r = add_arg(in, NULL, 0) < 0 ? bad(p, "too many arguments") : 0;
			continue;
		}
		s++;
		size_t n = 0;
		char q = 0;
		while (*s && (q || (*s != ' ' && *s != '\t'))) {
			if (!q && (*s == '"' || *s == '\'')) {
				q = *s++;
			} else if (q && *s == q) {
				q = 0;
				s++;
			} else if (*s == '\\' && q != '\'' && s[1]) {
				buf[n++] = s[1];
				s += 2;
			} else {
				buf[n++] = *s++;
			}
		}
		if (q) {
			r = bad(p, "%s: unterminated %c quote", recipe_op_name(in->op), q);
			break;
		}
		if (add_arg(in, buf, n) < 0)
			r = bad(p, "too many arguments");
	}
	free(buf);
	return r;
}

static int parse_insn(struct parse *p, struct recipe_insn *in, const char *rest)
{
	int r;
	switch (in->op) {
	case RECIPE_FROM:
		if (!strncmp(rest, "--", 2))
			return bad(p, "FROM %.*s: flags are not supported", (int)strcspn(rest, " \t"), rest);
		if ((r = words(p, in, rest)) < 0)
			return r;
		if (in->nargs == 3 && !strcasecmp(in->args[1], "AS")) {
			in->as = in->args[2];
			free(in->args[1]);
			in->nargs = 1;
		} else if (in->nargs != 1) {
			return bad(p, "FROM: want IMAGE [AS NAME]");
		}
		return 0;
	case RECIPE_RUN:
	case RECIPE_CMD:
	case RECIPE_ENTRYPOINT:
		if ((r = exec_form(p, in, rest)) != 0)
			return r < 0 ? r : 0;
		if (!*rest)
			return bad(p, "%s: no command", recipe_op_name(in->op));
		return add_arg(in, rest, strlen(rest)) < 0 ? bad(p, "out of memory") : 0;
	case RECIPE_COPY:
	case RECIPE_ADD:
		while (!strncmp(rest, "--", 2)) {
			size_t n = strcspn(rest, " \t");
			char **to = !strncmp(rest, "--chown=", 8) ? &in->chown
				  : in->op == RECIPE_COPY && !strncmp(rest, "--from=", 7) ? &in->from : NULL;
			const char *eq = memchr(rest, '=', n);
			if (!to || !eq || eq + 1 == rest + n)
				return bad(p, "%s: unknown or empty flag '%.*s'", recipe_op_name(in->op), (int)n, rest);
			free(*to);
			if (!(*to = strndup(eq + 1, (size_t)(rest + n - eq - 1))))
				return bad(p, "out of memory");
			rest = skip_ws(rest + n);
		}
		if ((r = exec_form(p, in, rest)) == 0)
			r = words(p, in, rest);
		if (r < 0)
			return r;
		if (in->nargs < 2)
			return bad(p, "%s: want SOURCE... DEST", recipe_op_name(in->op));
		return 0;
	case RECIPE_ENV:
		if (*rest && !memchr(rest, '=', strcspn(rest, " \t"))) {
			/* ENV KEY VALUE (the old form: the rest of the line is the value) */
			size_t k = strcspn(rest, " \t");
			const char *v = skip_ws(rest + k);
			if (!*v)
				return bad(p, "ENV %s: no value", rest);
			return add_arg(in, rest, k) < 0 || add_arg(in, v, strlen(v)) < 0 ? bad(p, "out of memory") : 0;
		}
		r = pairs(p, in, rest, false);
		return r < 0 ? r : in->nargs ? 0 : bad(p, "ENV: want KEY=VALUE");
	case RECIPE_LABEL:
		r = pairs(p, in, rest, false);
		return r < 0 ? r : in->nargs ? 0 : bad(p, "LABEL: want KEY=VALUE");
	case RECIPE_ARG:
		r = pairs(p, in, rest, true);
		return r < 0 ? r : in->nargs ? 0 : bad(p, "ARG: want NAME[=DEFAULT]");
	case RECIPE_WORKDIR:
	case RECIPE_USER:
		if (!*rest)
			return bad(p, "%s: want a value", recipe_op_name(in->op));
		return add_arg(in, rest, strlen(rest)) < 0 ? bad(p, "out of memory") : 0;
	case RECIPE_EXPOSE:
		if ((r = words(p, in, rest)) < 0)
			return r;
		return in->nargs ? 0 : bad(p, "EXPOSE: want PORT[/tcp|/udp]...");
	case RECIPE_VOLUME:
		if ((r = exec_form(p, in, rest)) == 0)
			r = words(p, in, rest);
		if (r < 0)
			return r;
		return in->nargs ? 0 : bad(p, "VOLUME: want a path");
	}
	return bad(p, "unknown instruction");
}

static void insn_free(struct recipe_insn *in)
{
	for (size_t k = 0; k < in->nargs; k++)
		free(in->args[k]);
	free(in->args);
	free(in->text);
	free(in->chown);
	free(in->from);
	free(in->as);
}

void recipe_free(struct recipe *r)
{
	for (size_t i = 0; i < r->n; i++)
		insn_free(&r->v[i]);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

int recipe_parse(const char *text, size_t len, const char *file, struct recipe *r, cap_err *err)
{
	struct parse p = { .file = file, .err = err };
	memset(r, 0, sizeof(*r));
	if (len > RECIPE_MAX_BYTES)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: larger than %u bytes", file, RECIPE_MAX_BYTES);
	if (memchr(text, 0, len))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: a NUL byte: not a text file", file);
	char *logical = malloc(len + 1);
	if (!logical)
		return cap_errf(err, ENOMEM, "%s", file);
	size_t pos = 0;
	int line = 0, rc = 0;
	bool seen_from = false;
	while (pos < len && rc == 0) {
		size_t n = 0;
		int first = 0;
		bool more = true;
		/* One logical line: physical lines joined while they end in a backslash. */
		while (more && pos < len) {
			const char *l = text + pos;
			size_t ll = 0;
			while (pos + ll < len && l[ll] != '\n')
				ll++;
			pos += ll + (pos + ll < len);
			line++;
			while (ll && (l[ll - 1] == '\r' || l[ll - 1] == ' ' || l[ll - 1] == '\t'))
				ll--;
			/* (the input is not NUL-terminated: stay within the line) */
			size_t skipped = 0;
			while (skipped < ll && (l[skipped] == ' ' || l[skipped] == '\t'))
				skipped++;
			if (n > 0 && ll > skipped && l[skipped] == '#')
				continue; /* a comment inside a continued instruction */
			if (!first)
				first = line;
			more = ll > skipped && l[ll - 1] == '\\';
			if (more)
				ll--;
			memcpy(logical + n, l + skipped, ll - skipped);
			n += ll - skipped;
			if (more)
				logical[n++] = ' ';
		}
		logical[n] = 0;
		while (n && (logical[n - 1] == ' ' || logical[n - 1] == '\t'))
			logical[--n] = 0;
		p.line = first;
		if (n == 0 || logical[0] == '#')
			continue;
		size_t k = strcspn(logical, " \t");
		struct recipe_insn in = { .line = first };
		size_t o = 0;
		while (o < sizeof(ops) / sizeof(ops[0]) && (strlen(ops[o].name) != k || strncasecmp(ops[o].name, logical, k)))
			o++;
		if (o == sizeof(ops) / sizeof(ops[0])) {
			rc = bad(&p, "unknown instruction '%.*s'", (int)(k > 40 ? 40 : k), logical);
			break;
		}
		in.op = ops[o].op;
		if (in.op != RECIPE_FROM && in.op != RECIPE_ARG && !seen_from) {
			rc = bad(&p, "%s before any FROM", ops[o].name);
			break;
		}
		seen_from |= in.op == RECIPE_FROM;
		if (r->n == RECIPE_MAX_INSNS) {
			rc = bad(&p, "more than %d instructions", RECIPE_MAX_INSNS);
			break;
		}
		in.text = strdup(logical);
		rc = in.text ? parse_insn(&p, &in, skip_ws(logical + k)) : bad(&p, "out of memory");
		struct recipe_insn *v = rc == 0 ? realloc(r->v, (r->n + 1) * sizeof(*v)) : NULL;
		if (!v) {
			insn_free(&in);
			if (rc == 0)
				rc = bad(&p, "out of memory");
			break;
		}
		r->v = v;
		r->v[r->n++] = in;
	}
	free(logical);
	if (rc == 0 && !seen_from)
		rc = cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: no FROM instruction", file);
	if (rc < 0)
		recipe_free(r);
	return rc;
}

char *recipe_expand(const char *s, recipe_lookup lookup, void *ctx, const char *where, cap_err *err)
{
	size_t cap = strlen(s) + 64, n = 0;
	char *out = malloc(cap);
#define PUT(str, len)                                                    \
	do {                                                             \
		size_t l_ = (len);                                       \
		if (n + l_ + 1 > cap) {                                  \
			if (n + l_ + 1 > RECIPE_MAX_BYTES)              \
				goto toolong;                            \
			cap = (n + l_ + 1) * 2;                          \
			char *g_ = realloc(out, cap);                    \
			if (!g_)                                         \
				goto toolong;                            \
			out = g_;                                        \
		}                                                        \
		memcpy(out + n, (str), l_);                              \
		n += l_;                                                 \
	} while (0)
	if (!out)
		return NULL;
	while (*s) {
		if (s[0] == '\\' && s[1] == '$') {
			PUT("$", 1);
			s += 2;
			continue;
		}
		if (s[0] != '$' || !(s[1] == '{' || isalpha((unsigned char)s[1]) || s[1] == '_')) {
			PUT(s, 1);
			s++;
			continue;
		}
		char name[256];
		const char *word = NULL;
		size_t wl = 0;
		char mod = 0;
		if (s[1] == '{') {
			const char *e = s + 2;
			while (isalnum((unsigned char)*e) || *e == '_')
				e++;
			size_t nl = (size_t)(e - s - 2);
			if (*e == ':' && (e[1] == '-' || e[1] == '+')) {
				mod = e[1];
				word = e + 2;
				const char *c = strchr(word, '}');
				if (!c)
					goto unterminated;
				wl = (size_t)(c - word);
				e = c;
			}
			if (*e != '}' || nl == 0 || nl >= sizeof(name))
				goto unterminated;
			memcpy(name, s + 2, nl);
			name[nl] = 0;
			s = e + 1;
		} else {
			const char *e = s + 1;
			while (isalnum((unsigned char)*e) || *e == '_')
				e++;
			size_t nl = (size_t)(e - s - 1);
			if (nl >= sizeof(name))
				goto unterminated;
			memcpy(name, s + 1, nl);
			name[nl] = 0;
			s = e;
		}
		const char *v = lookup(name, ctx);
		if (mod == '-' && (!v || !*v))
			PUT(word, wl);
		else if (mod == '+')
			PUT(v && *v ? word : "", v && *v ? wl : 0);
		else if (v)
			PUT(v, strlen(v));
	}
	out[n] = 0;
	return out;
#undef PUT
unterminated:
	free(out);
	cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: a malformed ${...} variable", where);
	return NULL;
toolong:
	free(out);
	cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: the line grows past %u bytes with its variables", where,
		      RECIPE_MAX_BYTES);
	return NULL;
}
