/* capsule vm snapshot NAME --state FILE --mem FILE [--diff] [--paused]: a snapshot of a running
 * VM through its API: pause it (if it runs), PUT /snapshot/create, resume it (unless --paused,
 * or it was paused already). The VM is resumed also when the snapshot fails. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "vm_api.h"

/* The VMM runs elsewhere (its own cwd): a relative path is made absolute here. */
static int absolute(const char *path, char *out, size_t len, cap_err *err)
{
	if (path[0] == '/') {
		if (strlen(path) >= len)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: too long", path);
		strcpy(out, path);
		return 0;
	}
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return cap_errf(err, errno, "current directory");
	if ((size_t)snprintf(out, len, "%s/%s", cwd, path) >= len)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: too long", path);
	return 0;
}

int cli_vm_snapshot(const struct cli_args *a, cap_err *err)
{
	const char *name = a->argv[0], *state = cli_str(a, "state"), *mem = cli_str(a, "mem");
	char st[PATH_MAX], mf[PATH_MAX];
	struct api_reply r;
	if (!state || !mem)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm snapshot: --state FILE and --mem FILE are required");
	if (absolute(state, st, sizeof(st), err) < 0 || absolute(mem, mf, sizeof(mf), err) < 0)
		return -1;
	if (vm_api_do("vm snapshot", name, "GET", "/", NULL, &r, err) < 0)
		return -1;
	const char *s = json_string_value(json_object_get(r.body, "state"));
	bool running = s && !strcmp(s, "Running"), paused = s && !strcmp(s, "Paused");
	api_reply_free(&r);
	if (!running && !paused)
		return cap_errf(err, 0, "vm snapshot %s: the VM is %s", name, s ? s : "in an unknown state");
	if (running && vm_api_do("vm snapshot", name, "PATCH", "/vm", "{\"state\": \"Paused\"}", &r, err) < 0)
		return -1;
	if (running)
		api_reply_free(&r);
	json_t *body = json_pack("{s:s, s:s, s:s}", "snapshot_type", cli_flag(a, "diff") ? "Diff" : "Full",
				 "snapshot_path", st, "mem_file_path", mf);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return cap_errf(err, ENOMEM, "vm snapshot");
	int rc = vm_api_do("vm snapshot", name, "PUT", "/snapshot/create", text, &r, err);
	free(text);
	if (rc == 0)
		api_reply_free(&r);
	if (running && !cli_flag(a, "paused")) {
		cap_err e2 = { 0 };
		if (vm_api_do("vm snapshot", name, "PATCH", "/vm", "{\"state\": \"Resumed\"}", &r, rc < 0 ? &e2 : err) == 0)
			api_reply_free(&r);
		else if (rc == 0)
			return -1;
	}
	return rc < 0 ? -1 : 0;
}
