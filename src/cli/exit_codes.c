/* One line per exit status, in the order of src/lib/error.h's CAP_EXIT_* codes. */
#include "exit_codes.h"

const struct cli_exit_code cli_exit_codes[] = {
	{ "0", "done (vm run: the guest powered off or rebooted)" },
	{ "1", "capsule could not do what was asked (the message says why)" },
	{ "2", "bad command line: unknown command or option, missing or bad value" },
	{ "3", "vm run: the guest kernel panicked" },
	{ "4", "vm run: a vCPU stopped on a fault (emulation failure, bad exit)" },
	{ "5", "vm run: the user quit from the console (Ctrl-A x)" },
	{ "128+N", "stopped by signal N (vm run), or the container process was killed by signal N" },
	{ "other", "oci run/exec: the container process's own status; vm run: a test guest's status" },
	{ 0 },
};
