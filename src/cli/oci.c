#include "commands.h"
int cmd_oci(int argc, char **argv, cap_err *err)
{
	(void)argc; (void)argv;
	return cap_errf_code(err, CAP_EXIT_USAGE, 0, "oci: not built yet");
}
