/* capsule vm ls [--format json]: every VM with a socket in API_RUN_DIR that answers GET /, with
 * its state, vCPUs, memory and uptime. A socket whose VMM is gone (it was killed) is skipped. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/api/api.h"
#include "../vmm/api/client.h"
#include "commands.h"
#include "vm_fmt.h"

static int by_id(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "id"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "id"));
	return strcmp(x ? x : "", y ? y : "");
}

int cli_vm_ls(const struct cli_args *a, cap_err *err)
{
	const char *fmt = cli_str(a, "format");
	json_t *list = json_array();
	DIR *d = opendir(API_RUN_DIR);
	if (!list) {
		closedir(d);
		return cap_errf(err, ENOMEM, "vm ls");
	}
	if (!d && errno != ENOENT) {
		json_decref(list);
		return cap_errf(err, errno, "vm ls: %s", API_RUN_DIR);
	}
	for (struct dirent *e; d && (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".sock"))
			continue;
		char sock[512];
		snprintf(sock, sizeof(sock), "%s/%s", API_RUN_DIR, e->d_name);
		struct api_reply r;
		cap_err ce = { 0 };
		json_t *row;
		if (api_client_call(sock, "GET", "/", NULL, &r, &ce) < 0) {
			if (ce.errnum == ECONNREFUSED || ce.errnum == ENOENT)
				continue; /* stale: its VMM died without removing it */
			row = json_pack("{s:s%, s:s}", "id", e->d_name, n - 5, "state", "unresponsive");
		} else if (r.status != 200 || !json_is_object(r.body)) {
			api_reply_free(&r);
			continue; /* not a VMM of ours */
		} else {
			row = json_incref(r.body);
			api_reply_free(&r);
		}
		json_object_set_new(row, "socket", json_string(sock));
		json_array_append_new(list, row);
	}
	if (d)
		closedir(d);
	size_t n = json_array_size(list);
	json_t **rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		json_decref(list);
		return cap_errf(err, ENOMEM, "vm ls");
	}
	for (size_t i = 0; i < n; i++)
		rows[i] = json_array_get(list, i);
	qsort(rows, n, sizeof(*rows), by_id);
	if (fmt && !strcmp(fmt, "json")) {
		json_t *sorted = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append(sorted, rows[i]);
		json_dumpf(sorted, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(sorted);
	} else {
		printf("%-24s %-12s %5s %10s %8s %8s\n", "NAME", "STATE", "VCPUS", "MEMORY", "UPTIME", "PID");
		for (size_t i = 0; i < n; i++) {
			json_t *o = rows[i];
			char up[32], mem[32];
			vm_fmt_uptime(json_integer_value(json_object_get(o, "uptime_ms")), up, sizeof(up));
			snprintf(mem, sizeof(mem), "%lldMiB", (long long)json_integer_value(json_object_get(o, "mem_size_mib")));
			printf("%-24s %-12s %5lld %10s %8s %8lld\n", json_string_value(json_object_get(o, "id")) ?: "?",
			       json_string_value(json_object_get(o, "state")) ?: "?",
			       (long long)json_integer_value(json_object_get(o, "vcpu_count")), mem, up,
			       (long long)json_integer_value(json_object_get(o, "pid")));
		}
	}
	free(rows);
	json_decref(list);
	return 0;
}
