/* One entry point per command group; each file in src/cli/ implements one. */
#ifndef CAPSULE_CLI_COMMANDS_H
#define CAPSULE_CLI_COMMANDS_H

#include "../lib/error.h"

/* argv[0] is the group name ("vm", "oci"); return an exit code, or fill err and return -1. */
int cmd_vm(int argc, char **argv, cap_err *err);
int cmd_oci(int argc, char **argv, cap_err *err);

#endif
