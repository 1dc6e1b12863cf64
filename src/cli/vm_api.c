/* NAME to socket, and one API call with its refusal as the command's error (vm_api.h). */
#include "vm_api.h"

#include <errno.h>
#include <string.h>

#include "../vmm/api/api.h"
#include "../vmm/instance.h"

int vm_api_sock(const char *name, char *buf, size_t len, cap_err *err)
{
	if (strchr(name, '/')) {
		if (strlen(name) >= len)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: the socket path is too long", name);
		strcpy(buf, name);
		return 0;
	}
	if (!vmm_id_valid(name))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0,
				     "'%.80s' is not a VM name (letters, digits, '_', '-') nor a socket path", name);
	if (api_default_sock(name, buf, len) < 0)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: the name is too long", name);
	return 0;
}

int vm_api_do(const char *cmd, const char *name, const char *method, const char *path, const char *body,
	      struct api_reply *r, cap_err *err)
{
	char sock[256];
	cap_err e = { 0 };
	if (vm_api_sock(name, sock, sizeof(sock), err) < 0)
		return -1;
	int rc = api_client_call(sock, method, path, body, r, &e);
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		cap_errf(err, 0, "%s %s: no such VM (nothing serves %s)", cmd, name, sock);
		return -1;
	}
	if (rc < 0) {
		cap_errf(err, 0, "%s %s: %s", cmd, name, e.msg);
		return -1;
	}
	if (r->status < 200 || r->status > 299) {
		cap_errf(err, 0, "%s %s: %s", cmd, name, api_reply_fault(r));
		api_reply_free(r);
		return -1;
	}
	return 0;
}
