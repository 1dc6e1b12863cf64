/* capsule vm migrate NAME --to ADDR: live-migrate a running VM (PUT /migrate on its API socket);
 * capsule vm receive --listen ADDR: the process that takes it (src/vmm/migrate.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "../vmm/run.h"
#include "commands.h"
#include "vm_api.h"

int cli_vm_migrate(const struct cli_args *a, cap_err *err)
{
	struct api_reply r;
	const char *fmt = cli_str(a, "format");
	if (!cli_str(a, "to"))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm migrate: --to unix:PATH|tcp:HOST:PORT is required");
	json_t *req = json_pack("{s:s, s:i}", "destination", cli_str(a, "to"), "max_downtime_ms",
				cli_int(a, "max-downtime", 20));
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!body)
		return cap_errf(err, 0, "vm migrate: out of memory");
	int rc = vm_api_do("vm migrate", a->argv[0], "PUT", "/migrate", body, &r, err);
	free(body);
	if (rc < 0)
		return -1;
	if (fmt && !strcmp(fmt, "json")) {
		json_dumpf(r.body, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		printf("migrated %s to %s: %lld pre-copy rounds, %.1f MiB sent (%.1f MiB while paused), %.1f ms in all, "
		       "%.1f ms downtime\n",
		       a->argv[0], cli_str(a, "to"), (long long)json_integer_value(json_object_get(r.body, "rounds")),
		       (double)json_integer_value(json_object_get(r.body, "bytes")) / 1048576.0,
		       (double)json_integer_value(json_object_get(r.body, "final_bytes")) / 1048576.0,
		       json_real_value(json_object_get(r.body, "total_ms")), json_real_value(json_object_get(r.body, "downtime_ms")));
	}
	api_reply_free(&r);
	return 0;
}

int cli_vm_receive(const struct cli_args *a, cap_err *err)
{
	struct vm_config host;
	int r;
	if (!cli_str(a, "listen"))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm receive: --listen unix:PATH|tcp:HOST:PORT is required");
	vm_config_init(&host);
	if (cli_flag(a, "debug"))
		cap_log_set_level(CAP_LOG_DEBUG);
	host.boot_timer = cli_flag(a, "boot-timer");
	const char *console = cli_str(a, "console"), *uds = cli_str(a, "vsock-uds");
	if (uds && (r = vm_config_set_string(&host.vsock_uds, uds, err)) < 0)
		goto out;
	struct vmm_run_opts o = { .receive = cli_str(a, "listen"), .receive_paused = cli_flag(a, "paused"),
				  .id = cli_str(a, "id"), .api_sock = cli_str(a, "api-sock") };
	if ((r = console ? vm_config_set_console(&host, console, err) : 0) == 0)
		r = vmm_run(&host, &o, err);
out:
	vm_config_free(&host);
	return r < 0 ? -1 : r;
}
