/* A client of a VMM's API socket, for the CLI (capsule vm ls|pause|resume|status|stop): one
 * request per connection, the response parsed by libhttp-parser, everything bounded in size
 * and time. */
#ifndef CAPSULE_VMM_API_CLIENT_H
#define CAPSULE_VMM_API_CLIENT_H

#include <jansson.h>
#include <sys/types.h>

#include "../../lib/error.h"

#define API_CLIENT_TIMEOUT_MS 10000
#define API_CLIENT_MAX_RESPONSE (1 << 20)

struct api_reply {
	int status;
	json_t *body;       /* the parsed JSON body, or NULL (204, or not JSON) */
	pid_t pid;          /* the VMM's pid, from the socket's peer credentials */
};

/* Send METHOD PATH [body] to the VMM at sock and wait for the answer. 0 with r filled (whatever
 * the status), or -errno with err naming the socket (-ECONNREFUSED / -ENOENT: nothing serves it). */
int api_client_call(const char *sock, const char *method, const char *path, const char *body, struct api_reply *r,
		    cap_err *err);
void api_reply_free(struct api_reply *r);
/* The fault_message of an error reply, or a generic line. */
const char *api_reply_fault(const struct api_reply *r);

#endif
