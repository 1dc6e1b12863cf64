/* capsule vm resume NAME: PATCH /vm {"state": "Resumed"} on the VM's API socket. */
#include "commands.h"
#include "vm_api.h"

int cli_vm_resume(const struct cli_args *a, cap_err *err)
{
	struct api_reply r;
	if (vm_api_do("vm resume", a->argv[0], "PATCH", "/vm", "{\"state\": \"Resumed\"}", &r, err) < 0)
		return -1;
	api_reply_free(&r);
	return 0;
}
