/* capsule login / logout: credentials for a registry, checked against it, kept in the auth file
 * (src/image/authfile.h) that pull, push and build read. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../image/authfile.h"
#include "../image/registry.h"
#include "commands.h"

/* One line from fd (the newline cut); echo off when it is a terminal and secret. */
static int read_line(FILE *in, const char *prompt, bool secret, char *buf, size_t sz)
{
	struct termios old, quiet;
	bool tty = isatty(fileno(in)) == 1;
	if (prompt && tty) {
		fputs(prompt, stderr);
		fflush(stderr);
	}
	bool restore = false;
	if (tty && secret && tcgetattr(fileno(in), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fileno(in), TCSAFLUSH, &quiet) == 0;
	}
	char *got = fgets(buf, (int)sz, in);
	if (restore) {
		tcsetattr(fileno(in), TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return -EIO;
	size_t n = strlen(buf);
	if (n == sz - 1 && buf[n - 1] != '\n')
		return -E2BIG;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	return 0;
}

int cli_image_login(const struct cli_args *a, cap_err *err)
{
	const char *host = a->argv[0];
	struct registry_opts o;
	if (cli_registry_opts(a, &o, err) < 0)
		return -1;
	struct reg_creds c = { .set = true };
	const char *user = cli_str(a, "username"), *pass = cli_str(a, "password");
	bool from_stdin = cli_flag(a, "password-stdin");
	if (pass && from_stdin)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "login %s: --password and --password-stdin together", host);
	bool tty = isatty(STDIN_FILENO) == 1;
	if (user) {
		if (snprintf(c.user, sizeof(c.user), "%s", user) >= (int)sizeof(c.user))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "login %s: the user name is too long", host);
	} else if (tty && !from_stdin) {
		if (read_line(stdin, "Username: ", false, c.user, sizeof(c.user)) < 0)
			return cap_errf(err, 0, "login %s: no user name read", host);
	} else {
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "login %s: no user name: give --username", host);
	}
	if (!*c.user || strchr(c.user, ':'))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "login %s: the user name is empty or has a ':'", host);
	int r = 0;
	if (pass) {
		if (snprintf(c.pass, sizeof(c.pass), "%s", pass) >= (int)sizeof(c.pass))
			r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "login %s: the password is too long", host);
	} else if (from_stdin || tty) {
		r = read_line(stdin, from_stdin ? NULL : "Password: ", true, c.pass, sizeof(c.pass));
		if (r == -E2BIG)
			r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "login %s: the password is too long", host);
		else if (r < 0 && !from_stdin)
			r = cap_errf(err, 0, "login %s: no password read", host);
		else if (r < 0)
			r = 0;   /* an empty stdin is an empty password, refused below */
	} else {
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "login %s: no password: give --password-stdin (or run on a terminal)",
				  host);
	}
	if (r == 0 && !*c.pass)
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "login %s: the password is empty", host);
	if (r == 0)
		r = registry_login(host, &o, &c, err);
	if (r == 0)
		r = authfile_set(o.authfile, host, c.user, c.pass, err);
	OPENSSL_cleanse(&c, sizeof(c));
	if (r < 0)
		return -1;
	printf("Login Succeeded!\n");
	return 0;
}

int cli_image_logout(const struct cli_args *a, cap_err *err)
{
	bool all = cli_flag(a, "all");
	if (all == (a->argc == 1))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "logout: give a REGISTRY or --all");
	char path[4096];
	if (authfile_path(path, sizeof(path), cli_str(a, "authfile"), cli_store_root()) < 0)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--authfile: the path is too long");
	const char *host = all ? NULL : a->argv[0];
	int r = authfile_remove(path, host, err);
	if (r < 0)
		return -1;
	if (r == 0 && host)
		return cap_errf(err, 0, "logout %s: not logged in (no credentials for it in %s)", host, path);
	if (host)
		printf("Removed login credentials for %s\n", host);
	else
		printf("Removed login credentials for all registries\n");
	return 0;
}
