/* From argv to a table row: the noun, its options, the verb, its options, the positionals,
 * then the row's handler. --help at either level prints the table's help for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct cli_noun *cli_find_noun(const char *name)
{
	for (const struct cli_noun *n = cli_nouns; n->name; n++)
		if (!strcmp(n->name, name))
			return n;
	return NULL;
}

const struct cli_cmd *cli_find_cmd(const char *noun, const char *verb)
{
	for (const struct cli_cmd *c = cli_commands; c->noun; c++)
		if (!strcmp(c->noun, noun) && !strcmp(c->verb, verb))
			return c;
	return NULL;
}

static int check_and_run(struct cli_args *a, const struct cli_cmd *c, const char *who, cap_err *err);

static int run_cmd(struct cli_args *a, int argc, char **argv, int i, cap_err *err)
{
	const struct cli_cmd *c = a->cmd;
	char who[128];
	snprintf(who, sizeof(who), "%s %s", c->noun, c->verb);
	int j = cli_parse(a, c->opts, argc, argv, i, who, err);
	if (j < 0)
		return -1;
	if (j == 0) {
		cli_help_cmd(stdout, c);
		return 0;
	}
	a->argc = argc - j;
	a->argv = argv + j;
	/* A command with a bounded number of arguments takes options after them too
	 * (capsule vm migrate NAME --to ADDR); one whose arguments run on (exec ID CMD ARG...) does not. */
	char **pos = NULL;
	if (c->max_args != CLI_ANY && j < argc) {
		int np = 0;
		if (!(pos = calloc((size_t)argc, sizeof(*pos))))
			return cap_errf(err, ENOMEM, "command line");
		while (j < argc) {
			if (!strcmp(argv[j], "--")) {
				while (++j < argc)
					pos[np++] = argv[j];
				break;
			}
			if (argv[j][0] == '-' && argv[j][1]) {
				int k = cli_parse(a, c->opts, argc, argv, j, who, err);
				if (k < 0 || k == 0) {
					free(pos);
					if (k == 0)
						cli_help_cmd(stdout, c);
					return k;
				}
				j = k;
				continue;
			}
			pos[np++] = argv[j++];
		}
		a->argc = np;
		a->argv = pos;
	}
	int rc = check_and_run(a, c, who, err);
	free(pos);
	return rc;
}

static int check_and_run(struct cli_args *a, const struct cli_cmd *c, const char *who, cap_err *err)
{
	if (a->argc < c->min_args || (c->max_args != CLI_ANY && a->argc > c->max_args)) {
		const char *what = a->argc < c->min_args ? "missing arguments" : "too many arguments";
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: %s, want %s (try: capsule %s --help)", who, what,
				     c->args ? c->args : "none", who);
	}
	return c->run(a, err);
}

/* `capsule run ...` is `capsule container run ...`: the verbs of a top_verbs noun. */
static const struct cli_noun *top_verb_noun(const char *verb)
{
	for (const struct cli_noun *n = cli_nouns; n->name; n++) {
		if (!n->top_verbs || !cli_find_cmd(n->name, verb))
			continue;
		if (!n->top_only)
			return n;
		size_t len = strlen(verb);
		for (const char *p = n->top_only; p; p = strchr(p, '|'), p = p ? p + 1 : NULL)
			if (!strncmp(p, verb, len) && (p[len] == '|' || !p[len]))
				return n;
	}
	return NULL;
}

int cli_main(int argc, char **argv, cap_err *err)
{
	const struct cli_noun *n = cli_find_noun(argv[0]);
	if (!n && (n = top_verb_noun(argv[0]))) {
		char **v = calloc((size_t)argc + 2, sizeof(*v));
		if (!v)
			return cap_errf(err, ENOMEM, "command line");
		v[0] = (char *)n->name;
		memcpy(v + 1, argv, (size_t)argc * sizeof(*v));
		int rc = cli_main(argc + 1, v, err);
		free(v);
		return rc;
	}
	if (!n)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "unknown command '%s' (try: capsule --help)", argv[0]);
	struct cli_args a = { .noun = n };
	int rc, i = cli_parse(&a, n->opts, argc, argv, 1, n->name, err);
	if (i < 0) {
		rc = -1;
		goto out;
	}
	if (i == 0) {
		cli_help_noun(stdout, n);
		rc = 0;
		goto out;
	}
	if (n->prepare && (rc = n->prepare(&a, err)) != 0) {
		rc = rc > 0 ? 0 : -1;
		goto out;
	}
	if (i >= argc) {
		cli_help_noun(stderr, n);
		rc = CAP_EXIT_USAGE;
		goto out;
	}
	if (!strcmp(argv[i], "help")) {
		const struct cli_cmd *c = i + 1 < argc ? cli_find_cmd(n->name, argv[i + 1]) : NULL;
		if (i + 1 < argc && !c) {
			rc = cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: unknown command '%s' (try: capsule %s --help)",
					   n->name, argv[i + 1], n->name);
		} else {
			c ? cli_help_cmd(stdout, c) : cli_help_noun(stdout, n);
			rc = 0;
		}
		goto out;
	}
	a.cmd = cli_find_cmd(n->name, argv[i]);
	if (!a.cmd)
		rc = cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: unknown command '%s' (try: capsule %s --help)", n->name,
				   argv[i], n->name);
	else
		rc = run_cmd(&a, argc, argv, i + 1, err);
out:
	if (n->finish)
		n->finish(&a, rc, err);
	cli_args_free(&a);
	return rc < 0 ? -1 : rc;
}
