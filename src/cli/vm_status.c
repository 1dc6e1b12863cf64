/* capsule vm status NAME [--format json]: GET / on the VM's API socket, as lines or as JSON. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "vm_api.h"
#include "vm_fmt.h"

int cli_vm_status(const struct cli_args *a, cap_err *err)
{
	struct api_reply r;
	const char *fmt = cli_str(a, "format");
	char sock[256];
	if (vm_api_sock(a->argv[0], sock, sizeof(sock), err) < 0 ||
	    vm_api_do("vm status", a->argv[0], "GET", "/", NULL, &r, err) < 0)
		return -1;
	if (!json_is_object(r.body)) {
		api_reply_free(&r);
		return cap_errf(err, 0, "vm status %s: the VMM's answer is not a JSON object", a->argv[0]);
	}
	json_object_set_new(r.body, "socket", json_string(sock));
	if (fmt && !strcmp(fmt, "json")) {
		json_dumpf(r.body, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		char up[32], mem[32];
		vm_fmt_uptime(json_integer_value(json_object_get(r.body, "uptime_ms")), up, sizeof(up));
		snprintf(mem, sizeof(mem), "%lld MiB", (long long)json_integer_value(json_object_get(r.body, "mem_size_mib")));
		printf("id:      %s\nstate:   %s\npid:     %lld\nvcpus:   %lld\nmemory:  %s\nuptime:  %s\nsocket:  %s\n",
		       json_string_value(json_object_get(r.body, "id")) ?: "?",
		       json_string_value(json_object_get(r.body, "state")) ?: "?",
		       (long long)json_integer_value(json_object_get(r.body, "pid")),
		       (long long)json_integer_value(json_object_get(r.body, "vcpu_count")), mem, up, sock);
	}
	api_reply_free(&r);
	return 0;
}
