/* The command table and its option parser: every `capsule <noun> <verb>` is one row of
 * cli_commands[] (table.c), parsed by cli_parse() and documented from the row itself (--help,
 * `capsule completion bash`, the man pages). Adding a command = one row + one handler. */
#ifndef CAPSULE_CLI_CLI_H
#define CAPSULE_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../lib/error.h"

enum cli_opt_kind {
	CLI_FLAG,     /* --x, or --x=true|false */
	CLI_VALUE,    /* --x V, --x=V, -x V */
	CLI_INT,      /* a value that must be a non-negative decimal integer */
	CLI_OPTIONAL, /* --x alone, --x=V, or --x V when V is one of .choices */
};

enum cli_complete {
	CLI_COMPLETE_NONE,  /* a free value (a number, a name) */
	CLI_COMPLETE_FILE,  /* a path */
	CLI_COMPLETE_DIR,   /* a directory */
};

struct cli_opt {
	const char *name;      /* long name, without the dashes */
	char shrt;             /* short letter, or 0 */
	enum cli_opt_kind kind;
	const char *arg;       /* the value's name in help (PATH, N), NULL for flags */
	const char *help;      /* one line (may be wrapped with \n) */
	const char *choices;   /* "a|b|c" when the value is one of a few words; completion offers them */
	enum cli_complete complete;
};

/* The one version string (-DCAPSULE_VERSION=... overrides it). */
#ifndef CAPSULE_VERSION
#define CAPSULE_VERSION "0.1.0"
#endif

struct cli_args;

/* A handler returns an exit code (>= 0), or -1 with err filled. */
typedef int cli_handler(const struct cli_args *a, cap_err *err);

/* A noun groups verbs; its options come before the verb (`capsule oci --root DIR list`). */
struct cli_noun {
	const char *name;
	const char *summary;
	const struct cli_opt *opts;   /* NULL-name terminated, or NULL */
	const char *details;          /* paragraph for help and the man page, or NULL */
	/* After the noun's options are parsed and before the verb runs. Returns < 0 (error),
	 * 0 (go on) or 1 (done: exit 0, e.g. --version printed). */
	int (*prepare)(const struct cli_args *a, cap_err *err);
	/* After the verb ran (or failed), with its status and error (e.g. oci's --log file). */
	void (*finish)(const struct cli_args *a, int rc, const cap_err *err);
	bool top_verbs;               /* its verbs also work as `capsule VERB` (capsule run = capsule container run) */
	const char *top_only;         /* with top_verbs: only these ("build|pull|push"); NULL: all */
};

#define CLI_ANY (-1)

struct cli_cmd {
	const char *noun, *verb;
	cli_handler *run;
	const char *summary;          /* one line, no final period */
	const char *args;             /* positional arguments in the usage line ("ID [SIGNAL]"), or NULL */
	const struct cli_opt *opts;   /* NULL-name terminated, or NULL */
	int min_args, max_args;       /* positional count; max CLI_ANY for no limit */
	const char *details;          /* paragraph(s) for help and the man page, or NULL */
};

/* One option as given on the command line, in order. */
struct cli_val {
	const struct cli_opt *opt;
	const char *value;            /* "true"/"false" for flags; NULL for a bare CLI_OPTIONAL */
};

struct cli_args {
	const struct cli_noun *noun;
	const struct cli_cmd *cmd;
	struct cli_val *v;
	size_t n;
	int argc;                     /* positionals after the options */
	char **argv;
};

extern const struct cli_noun cli_nouns[];
extern const struct cli_cmd cli_commands[];

const struct cli_noun *cli_find_noun(const char *name);
const struct cli_cmd *cli_find_cmd(const char *noun, const char *verb);

/* Parse options from argv[i] on into a (appending), up to the first positional or "--".
 * Returns the index of the first positional; 0 when --help (or -h) was given; -1 with
 * err filled (CAP_EXIT_USAGE) for an unknown option, a missing or bad value. `who` names the
 * command in messages ("vm run"). */
int cli_parse(struct cli_args *a, const struct cli_opt *opts, int argc, char **argv, int i,
	      const char *who, cap_err *err);
void cli_args_free(struct cli_args *a);

/* Values by option name, the last one given winning; NULL / false / dflt when absent.
 * Asking for a name the command does not declare is a bug and aborts. */
const char *cli_str(const struct cli_args *a, const char *name);
bool cli_flag(const struct cli_args *a, const char *name);
bool cli_given(const struct cli_args *a, const char *name);
int cli_int(const struct cli_args *a, const char *name, int dflt);
/* Every value of a repeatable option, in order: a malloc'ed NULL-terminated array (free it). */
const char **cli_all(const struct cli_args *a, const char *name, size_t *n);

/* `capsule <argv...>` (argv[0] is the noun) through the table; returns the exit code. */
int cli_main(int argc, char **argv, cap_err *err);

/* help.c */
void cli_help_main(FILE *f);
void cli_help_noun(FILE *f, const struct cli_noun *n);
void cli_help_cmd(FILE *f, const struct cli_cmd *c);
/* Writes capsule.1 and capsule-<noun>.1 into dir. */
int cli_write_man(const char *dir, cap_err *err);

/* completion.c */
void cli_completion_bash(FILE *f);

#endif
