/* The options every command that reaches a registry shares (pull, push, build, login, logout):
 * --tls-verify=true|false as podman's, --authfile FILE. */
#include <string.h>

#include "../image/authfile.h"
#include "../image/registry.h"
#include "commands.h"

int cli_registry_opts(const struct cli_args *a, struct registry_opts *o, cap_err *err)
{
	memset(o, 0, sizeof(*o));
	const char *v = cli_str(a, "tls-verify");
	/* false: plain HTTP; true given: HTTPS verified even on loopback; unset: HTTPS but for loopback */
	o->tls_verify = !v || strcmp(v, "false");
	o->tls_required = v && !strcmp(v, "true");
	if (authfile_path(o->authfile, sizeof(o->authfile), cli_str(a, "authfile"), cli_store_root()) < 0)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--authfile: the path is too long");
	return 0;
}
