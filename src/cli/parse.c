/* The one option parser for every command. It accepts what runc's callers send (urfave/cli
 * and Go's flag package): --x v, --x=v, -x v, -x=v, single-dash long names (-bundle), flags
 * with =true/=false, "--" to end the options. Options end at the first positional argument,
 * so that `exec ID ls --help` hands --help to ls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cli_opt *find_opt(const struct cli_opt *opts, const char *name, size_t len, bool shrt)
{
	for (const struct cli_opt *o = opts; o && o->name; o++) {
		if (shrt ? (len == 1 && o->shrt == name[0])
			 : (strlen(o->name) == len && !strncmp(o->name, name, len)))
			return o;
	}
	return NULL;
}

static bool is_choice(const char *choices, const char *v)
{
	size_t n = strlen(v);
	for (const char *c = choices; c && *c;) {
		const char *bar = strchr(c, '|');
		size_t len = bar ? (size_t)(bar - c) : strlen(c);
		if (len == n && !strncmp(c, v, n))
			return true;
		c += len + (bar ? 1 : 0);
	}
	return false;
}

static void add_val(struct cli_args *a, const struct cli_opt *o, const char *value)
{
	struct cli_val *nv = realloc(a->v, (a->n + 1) * sizeof(*nv));
	if (!nv)
		abort();
	a->v = nv;
	a->v[a->n++] = (struct cli_val){ o, value };
}

/* A group of one-letter flags (-it), each a CLI_FLAG of opts: added in order. */
static bool short_flags(struct cli_args *a, const struct cli_opt *opts, const char *group)
{
	for (const char *c = group; *c; c++) {
		const struct cli_opt *o = find_opt(opts, c, 1, true);
		if (!o || o->kind != CLI_FLAG)
			return false;
	}
	for (const char *c = group; *c; c++)
		add_val(a, find_opt(opts, c, 1, true), "true");
	return true;
}

static bool is_help(const char *s)
{
	return !strcmp(s, "--help") || !strcmp(s, "-h") || !strcmp(s, "-help");
}

int cli_parse(struct cli_args *a, const struct cli_opt *opts, int argc, char **argv, int i,
	      const char *who, cap_err *err)
{
	for (; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "--"))
			return i + 1;
		if (s[0] != '-' || !s[1])
			return i;
		bool dd = s[1] == '-';
		const char *name = s + (dd ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct cli_opt *o = find_opt(opts, name, len, !dd);
		if (!o && !dd)
			o = find_opt(opts, name, len, false);
		if (!o && is_help(s))
			return 0;
		if (!o && !dd && !eq && len > 1 && short_flags(a, opts, name))
			continue; /* -it: -i -t */
		if (!o)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: unknown option '%.*s' (try: capsule %s --help)",
					     who, (int)(name - s + len), s, who), -1;
		const char *val = eq ? eq + 1 : NULL;
		switch (o->kind) {
		case CLI_FLAG:
			if (val && strcmp(val, "true") && strcmp(val, "false"))
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: --%s takes no value, or =true or =false",
						     who, o->name), -1;
			add_val(a, o, val ? val : "true");
			continue;
		case CLI_OPTIONAL:
			if (!val && i + 1 < argc && is_choice(o->choices, argv[i + 1]))
				val = argv[++i];
			if (val && o->choices && !is_choice(o->choices, val))
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: --%s %s: want %s", who, o->name, val,
						     o->choices), -1;
			add_val(a, o, val);
			continue;
		case CLI_VALUE:
		case CLI_INT:
			break;
		}
		if (!val) {
			if (i + 1 >= argc)
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: option --%s needs a value (%s)", who,
						     o->name, o->arg ? o->arg : "VALUE"), -1;
			val = argv[++i];
		}
		if (o->choices && !is_choice(o->choices, val))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: --%s %s: want %s", who, o->name, val,
					     o->choices), -1;
		if (o->kind == CLI_INT) {
			char *end;
			errno = 0;
			long n = strtol(val, &end, 10);
			if (!*val || *end || n < 0 || n > 0x7fffffff || errno)
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: --%s wants a number, not '%s'", who,
						     o->name, val), -1;
		}
		add_val(a, o, val);
	}
	return i;
}

void cli_args_free(struct cli_args *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

static const struct cli_opt *declared(const struct cli_args *a, const char *name)
{
	size_t len = strlen(name);
	const struct cli_opt *o = a->cmd ? find_opt(a->cmd->opts, name, len, false) : NULL;
	if (!o && a->noun)
		o = find_opt(a->noun->opts, name, len, false);
	if (!o)
		abort(); /* a handler asked for an option its table row does not declare */
	return o;
}

static const struct cli_val *last(const struct cli_args *a, const char *name)
{
	const struct cli_opt *o = declared(a, name);
	for (size_t k = a->n; k-- > 0;)
		if (a->v[k].opt == o)
			return &a->v[k];
	return NULL;
}

const char *cli_str(const struct cli_args *a, const char *name)
{
	const struct cli_val *v = last(a, name);
	return v ? v->value : NULL;
}

bool cli_given(const struct cli_args *a, const char *name)
{
	return last(a, name) != NULL;
}

bool cli_flag(const struct cli_args *a, const char *name)
{
	const struct cli_val *v = last(a, name);
	return v && (!v->value || strcmp(v->value, "false"));
}

int cli_int(const struct cli_args *a, const char *name, int dflt)
{
	const struct cli_val *v = last(a, name);
	return v ? (int)strtol(v->value, NULL, 10) : dflt;
}

const char **cli_all(const struct cli_args *a, const char *name, size_t *n)
{
	const struct cli_opt *o = declared(a, name);
	const char **out = calloc(a->n + 1, sizeof(*out));
	if (!out)
		abort();
	*n = 0;
	for (size_t k = 0; k < a->n; k++)
		if (a->v[k].opt == o)
			out[(*n)++] = a->v[k].value;
	return out;
}
