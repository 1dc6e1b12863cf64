/* Man pages from the command table (`capsule help --man DIR`, run by make): capsule(1) and
 * capsule-<noun>(1), one page per noun with a section per command. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "exit_codes.h"


/* Text for roff: backslashes and dashes escaped, a leading dot or quote defused. */
static void roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

/* The summary sentence, then the longer paragraph when there is one. */
static void description(FILE *f, const char *summary, const char *details)
{
	roff(f, summary);
	fputs(".\n", f);
	if (details) {
		fputs(".PP\n", f);
		roff(f, details);
		fputc('\n', f);
	}
}

static void header(FILE *f, const char *name, const char *summary)
{
	fprintf(f, ".TH ");
	for (const char *p = name; *p; p++)
		fputc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, f);
	fprintf(f, " 1 \"\" \"capsule %s\" \"Capsule Manual\"\n.SH NAME\n", CAPSULE_VERSION);
	roff(f, name);
	fputs(" \\- ", f);
	roff(f, summary);
	fputc('\n', f);
}

static void options(FILE *f, const struct cli_opt *opts)
{
	for (const struct cli_opt *o = opts; o && o->name; o++) {
		fputs(".TP\n", f);
		if (o->shrt)
			fprintf(f, "\\fB\\-%c\\fR, ", o->shrt);
		fputs("\\fB\\-\\-", f);
		roff(f, o->name);
		fputs("\\fR", f);
		if (o->arg) {
			fputs(o->kind == CLI_OPTIONAL ? "[=\\fI" : " \\fI", f);
			roff(f, o->arg);
			fputs(o->kind == CLI_OPTIONAL ? "\\fR]" : "\\fR", f);
		}
		fputc('\n', f);
		roff(f, o->help);
		fputc('\n', f);
	}
}

static void exit_status(FILE *f)
{
	fputs(".SH EXIT STATUS\n", f);
	for (const struct cli_exit_code *e = cli_exit_codes; e->meaning; e++) {
		fputs(".TP\n.B ", f);
		roff(f, e->code);
		fputc('\n', f);
		roff(f, e->meaning);
		fputc('\n', f);
	}
}

static void usage_line(FILE *f, const char *prog, const struct cli_noun *n, const struct cli_cmd *c)
{
	fprintf(f, ".B %s\n", prog);
	if (n && n->opts && n->opts->name)
		fputs("[\\fIoptions\\fR]\n", f);
	fputs(".B ", f);
	roff(f, c->verb);
	fputc('\n', f);
	if (c->opts)
		fputs("[\\fIoptions\\fR]\n", f);
	if (c->args) {
		fputs(".I ", f);
		roff(f, c->args);
		fputc('\n', f);
	}
}

static void noun_page(FILE *f, const struct cli_noun *n)
{
	char name[64];
	snprintf(name, sizeof(name), "capsule-%s", n->name);
	header(f, name, n->summary);
	fprintf(f, ".SH SYNOPSIS\n.B capsule %s\n", n->name);
	if (n->opts)
		fputs("[\\fIoptions\\fR]\n", f);
	fputs(".I command\n[\\fIoptions\\fR] [\\fIarguments\\fR]\n.SH DESCRIPTION\n", f);
	description(f, n->summary, n->details);
	if (n->opts && n->opts->name) {
		fputs(".SH OPTIONS\nThese come before the command.\n", f);
		options(f, n->opts);
	}
	fputs(".SH COMMANDS\n", f);
	for (const struct cli_cmd *c = cli_commands; c->noun; c++) {
		if (strcmp(c->noun, n->name))
			continue;
		fputs(".SS ", f);
		roff(f, c->verb);
		fputs("\n", f);
		char prog[64];
		snprintf(prog, sizeof(prog), "capsule %s", n->name);
		usage_line(f, prog, n, c);
		if (!strcmp(n->name, "oci")) {
			fputs(".br\n", f);
			usage_line(f, "capsule-runtime", n, c);
		}
		fputs(".PP\n", f);
		description(f, c->summary, c->details);
		options(f, c->opts);
	}
	exit_status(f);
	fputs(".SH SEE ALSO\n.BR capsule (1)\n", f);
}

static void main_page(FILE *f)
{
	header(f, "capsule", "micro-VMs on KVM and OCI containers");
	fputs(".SH SYNOPSIS\n.B capsule\n.I noun verb\n[\\fIoptions\\fR] [\\fIarguments\\fR]\n.br\n"
	      ".B capsule\n\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR | \\fBhelp\\fR [\\fInoun\\fR [\\fIverb\\fR]]\n"
	      ".SH DESCRIPTION\nOne binary for micro\\-VMs and OCI containers. Invoked as\n.B capsule\\-runtime\n"
	      "(a symlink), it is the runc\\-compatible OCI runtime that podman and containerd call.\n"
	      "Every command has its own \\fB\\-\\-help\\fR.\n.SH COMMANDS\n",
	      f);
	for (const struct cli_cmd *c = cli_commands; c->noun; c++) {
		fputs(".TP\n.B capsule ", f);
		roff(f, c->noun);
		fputc(' ', f);
		roff(f, c->verb);
		fputc('\n', f);
		roff(f, c->summary);
		fputc('\n', f);
	}
	fputs(".SH OPTIONS\n.TP\n.B \\-\\-help\nlist the commands\n.TP\n.B \\-\\-version\nprint the version\n", f);
	exit_status(f);
	fputs(".SH SEE ALSO\n", f);
	for (const struct cli_noun *n = cli_nouns; n->name; n++)
		fprintf(f, ".BR capsule\\-%s (1)%s\n", n->name, n[1].name ? "," : "");
}

static int write_page(const char *dir, const char *name, const struct cli_noun *n, cap_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.1", dir, name);
	FILE *f = fopen(path, "we");
	if (!f)
		return cap_errf(err, errno, "%s", path);
	n ? noun_page(f, n) : main_page(f);
	if (ferror(f) | fclose(f))
		return cap_errf(err, errno ? errno : EIO, "%s: write failed", path);
	return 0;
}

int cli_write_man(const char *dir, cap_err *err)
{
	if (write_page(dir, "capsule", NULL, err) < 0)
		return -1;
	for (const struct cli_noun *n = cli_nouns; n->name; n++) {
		char name[64];
		snprintf(name, sizeof(name), "capsule-%s", n->name);
		if (write_page(dir, name, n, err) < 0)
			return -1;
	}
	return 0;
}
