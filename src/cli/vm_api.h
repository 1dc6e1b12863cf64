/* What the commands that drive a running VM share: from a NAME to its API socket, and one
 * API call whose refusal becomes the command's one error line. */
#ifndef CAPSULE_CLI_VM_API_H
#define CAPSULE_CLI_VM_API_H

#include <stddef.h>

#include "../lib/error.h"
#include "../vmm/api/client.h"

/* NAME is a VM id (its socket is API_RUN_DIR/NAME.sock) or, with a '/', a socket path. */
int vm_api_sock(const char *name, char *buf, size_t len, cap_err *err);
/* Call the VM's API; a VM that is not there, or a 4xx/5xx, is an error naming the command and
 * the VM ("vm pause web: the VM is already paused"). 0 with r filled (2xx) or -1. */
int vm_api_do(const char *cmd, const char *name, const char *method, const char *path, const char *body,
	      struct api_reply *r, cap_err *err);

#endif
