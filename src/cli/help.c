/* --help text from the command table: capsule, each noun, each command. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "exit_codes.h"
#include "../image/store.h"

/* "  -b, --bundle DIR" */
static int opt_label(char *buf, size_t len, const struct cli_opt *o)
{
	char shrt[8] = "";
	if (o->shrt)
		snprintf(shrt, sizeof(shrt), "-%c, ", o->shrt);
	const char *arg = o->arg ? o->arg : "";
	if (o->kind == CLI_OPTIONAL)
		return snprintf(buf, len, "%s--%s[=%s]", shrt, o->name, arg);
	return snprintf(buf, len, "%s--%s%s%s", shrt, o->name, o->arg ? " " : "", arg);
}

/* Print text indented by `indent`, folded at 100 columns. */
static void fold(FILE *f, const char *text, int indent, int col)
{
	const char *p = text;
	while (*p) {
		const char *end = strchr(p, ' ');
		size_t w = end ? (size_t)(end - p) : strlen(p);
		if (col > indent && col + 1 + (int)w > 100) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)w, p);
		col += (int)w;
		p += w;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

static void print_opts(FILE *f, const char *title, const struct cli_opt *opts)
{
	if (!opts || !opts->name)
		return;
	fprintf(f, "\n%s:\n", title);
	for (const struct cli_opt *o = opts; o->name; o++) {
		char label[128];
		int n = opt_label(label, sizeof(label), o);
		fprintf(f, "  %s", label);
		if (n + 2 > 28) {
			fprintf(f, "\n%*s", 30, "");
		} else {
			fprintf(f, "%*s", 30 - (n + 2), "");
		}
		fold(f, o->help, 30, 30);
	}
}

static void print_exit_codes(FILE *f)
{
	fprintf(f, "\nExit status:\n");
	for (const struct cli_exit_code *e = cli_exit_codes; e->meaning; e++)
		fprintf(f, "  %-7s %s\n", e->code, e->meaning);
}

void cli_help_main(FILE *f)
{
	fprintf(f, "Usage: capsule <noun> <verb> [options] [arguments]\n"
		   "       capsule-runtime [options] <command> ...   (the runc-compatible OCI runtime)\n"
		   "\nCommands:\n");
	for (const struct cli_cmd *c = cli_commands; c->noun; c++) {
		char name[64];
		snprintf(name, sizeof(name), "%s %s", c->noun, c->verb);
		fprintf(f, "  %-24s", name);
		fold(f, c->summary, 26, 26);
	}
	fprintf(f, "\nOptions:\n"
		   "  --root DIR              the image store of the engine commands (default\n"
		   "                          " STORE_DEFAULT_ROOT ")\n"
		   "  --version               print the version\n"
		   "  --help                  this text\n"
		   "\nRun 'capsule <noun> <verb> --help' for a command's options, 'capsule <noun> --help' for a\n"
		   "noun's own options.\n");
	for (const struct cli_noun *n = cli_nouns; n->name; n++)
		if (n->top_verbs && !n->top_only)
			fprintf(f, "The %s verbs also work without the noun: 'capsule run IMAGE' is 'capsule %s run IMAGE'.\n",
				n->name, n->name);
		else if (n->top_verbs)
			fprintf(f, "'capsule VERB' is 'capsule %s VERB' for %s.\n", n->name, n->top_only);
	print_exit_codes(f);
}

void cli_help_noun(FILE *f, const struct cli_noun *n)
{
	fprintf(f, "Usage: capsule %s%s <command> [options] [arguments]\n\n", n->name,
		n->opts ? " [options]" : "");
	fold(f, n->summary, 0, 0);
	if (n->details) {
		fputc('\n', f);
		fold(f, n->details, 0, 0);
	}
	fprintf(f, "\nCommands:\n");
	for (const struct cli_cmd *c = cli_commands; c->noun; c++) {
		if (strcmp(c->noun, n->name))
			continue;
		fprintf(f, "  %-16s", c->verb);
		fold(f, c->summary, 18, 18);
	}
	print_opts(f, "Options", n->opts);
	fprintf(f, "\nRun 'capsule %s <command> --help' for a command's options.\n", n->name);
}

void cli_help_cmd(FILE *f, const struct cli_cmd *c)
{
	const struct cli_noun *n = cli_find_noun(c->noun);
	bool noun_opts = n && n->opts && n->opts->name;
	fprintf(f, "Usage: capsule %s%s %s%s%s%s\n", c->noun, noun_opts ? " [options]" : "", c->verb,
		c->opts ? " [options]" : "", c->args ? " " : "", c->args ? c->args : "");
	if (!strcmp(c->noun, "oci"))
		fprintf(f, "       capsule-runtime [options] %s%s%s%s\n", c->verb, c->opts ? " [options]" : "",
			c->args ? " " : "", c->args ? c->args : "");
	fputc('\n', f);
	fold(f, c->summary, 0, 0);
	if (c->details) {
		fputc('\n', f);
		fold(f, c->details, 0, 0);
	}
	print_opts(f, "Options", c->opts);
	if (noun_opts)
		fprintf(f, "\nOptions before '%s' are %s's: see 'capsule %s --help'.\n", c->verb, c->noun, c->noun);
	fprintf(f, "\nExit status: 0 done, 1 failed, 2 bad command line ('capsule --help' lists all).\n");
}
