/* The exit statuses of capsule as help and the man pages list them (docs/exit-codes.md is the
 * long form; tests/unit/test_exit_codes.sh checks that it, this list and src/lib/error.h agree). */
#ifndef CAPSULE_CLI_EXIT_CODES_H
#define CAPSULE_CLI_EXIT_CODES_H

struct cli_exit_code {
	const char *code;     /* "0", "128+N" */
	const char *meaning;  /* one line */
};

extern const struct cli_exit_code cli_exit_codes[];

#endif
