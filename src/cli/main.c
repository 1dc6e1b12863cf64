/* capsule: one binary for micro-VMs and OCI containers. Every command is a row of the command
 * table (table.c); cli_main() dispatches through it. Invoked as "capsule-runtime" (a symlink
 * podman/containerd point at) it is "capsule oci": the runc-compatible runtime. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "../lib/error.h"
#include "../lib/log.h"
#include "cli.h"
#include "commands.h"


static int top(int argc, char **argv, cap_err *err)
{
	if (argc < 2) {
		cli_help_main(stderr);
		return CAP_EXIT_USAGE;
	}
	const char *a = argv[1];
	if (!strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "help")) {
		/* capsule help [NOUN [VERB]] */
		if (argc == 2) {
			cli_help_main(stdout);
			return 0;
		}
		if (argc == 3 && !strcmp(argv[2], "--man"))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "help --man: want a directory");
		if (argc == 4 && !strcmp(argv[2], "--man"))
			return cli_write_man(argv[3], err) < 0 ? -1 : 0;
		const struct cli_noun *n = cli_find_noun(argv[2]);
		const struct cli_cmd *c = n && argc > 3 ? cli_find_cmd(n->name, argv[3]) : NULL;
		if (!n || (argc > 3 && !c) || argc > 4)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "help: no command '%s%s%s' (try: capsule --help)",
					     argv[2], argc > 3 ? " " : "", argc > 3 ? argv[3] : "");
		c ? cli_help_cmd(stdout, c) : cli_help_noun(stdout, n);
		return 0;
	}
	if (!strcmp(a, "--version") || !strcmp(a, "version")) {
		printf("capsule version %s\n", CAPSULE_VERSION);
		return 0;
	}
	/* capsule --root DIR ...: the image store of the engine commands */
	if (!strcmp(a, "--root") || !strncmp(a, "--root=", 7)) {
		const char *v = a[6] == '=' ? a + 7 : argc > 2 ? argv[2] : NULL;
		int used = a[6] == '=' ? 1 : 2;
		if (!v || !*v)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--root: want a directory (try: capsule --help)");
		cli_set_store_root(v);
		argv[used] = argv[0];
		return top(argc - used, argv + used, err);
	}
	if (a[0] == '-')
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "unknown option '%s' (try: capsule --help)", a);
	return cli_main(argc - 1, argv + 1, err);
}

int main(int argc, char **argv)
{
	cap_err err = { 0 };
	int rc;

	cap_log_init_from_env();
	if (!strcmp(basename(argv[0]), "capsule-runtime")) {
		argv[0] = "oci";
		rc = cli_main(argc, argv, &err);
	} else {
		rc = top(argc, argv, &err);
	}
	if (rc < 0 || err.set)
		return cap_err_report(&err);
	return rc;
}
