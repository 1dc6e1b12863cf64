/* capsule: one binary for micro-VMs and OCI containers.
 * Invoked as "capsule-runtime" (a symlink podman/containerd point at) it behaves as
 * "capsule oci": the runc-compatible runtime. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "../lib/error.h"
#include "../lib/log.h"
#include "commands.h"

#ifndef CAPSULE_VERSION
#define CAPSULE_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: capsule <group> <command> [options]\n"
		"\n"
		"Groups:\n"
		"  vm     micro-VMs on KVM        (capsule vm run --help)\n"
		"  oci    OCI container runtime   (capsule oci --help)\n"
		"\n"
		"Options:\n"
		"  --version   print the version\n"
		"  --help      this text\n"
		"\n"
		"Exit codes: 0 ok, 1 error, 2 usage, 3 guest panic, 4 vCPU fault, 128+N stopped by signal N.\n");
}

int main(int argc, char **argv)
{
	cap_err err = { 0 };
	int rc;

	cap_log_init_from_env();

	char *prog = basename(argv[0]);
	if (!strcmp(prog, "capsule-runtime")) {
		argv[0] = "oci";
		rc = cmd_oci(argc, argv, &err);
		goto out;
	}
	if (argc < 2) {
		usage(stderr);
		return CAP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("capsule version %s\n", CAPSULE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "vm"))
		rc = cmd_vm(argc - 1, argv + 1, &err);
	else if (!strcmp(argv[1], "oci"))
		rc = cmd_oci(argc - 1, argv + 1, &err);
	else {
		fprintf(stderr, "capsule: unknown command group '%s' (try: capsule --help)\n", argv[1]);
		return CAP_EXIT_USAGE;
	}
out:
	if (rc < 0 || err.set)
		return cap_err_report(&err);
	return rc;
}
