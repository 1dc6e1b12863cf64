/* capsule vm restore, and the --snapshot option it shares with capsule vm run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/log.h"
#include "../vmm/api/api.h"
#include "../vmm/instance.h"
#include "../vmm/run.h"
#include "commands.h"
#include "vm_snapshot.h"

int cli_vm_snapshots(const struct cli_args *a, bool restored, struct vmm_snapshot_at **out, int *n, cap_err *err)
{
	size_t k = 0;
	const char **specs = cli_all(a, "snapshot", &k);
	int r = 0;
	*out = NULL;
	*n = 0;
	if (k && !(*out = calloc(k, sizeof(**out))))
		r = cap_errf(err, ENOMEM, "snapshots");
	for (size_t i = 0; r == 0 && i < k; i++) {
		r = run_snapshot_parse(specs[i], &(*out)[i], err);
		if (r == 0)
			(*n)++;
	}
	if (r == 0)
		r = run_snapshots_check(*out, *n, restored, err);
	free(specs);
	if (r < 0) {
		cli_vm_snapshots_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

void cli_vm_snapshots_free(struct vmm_snapshot_at *at, int n)
{
	for (int i = 0; i < n; i++)
		run_snapshot_at_free(&at[i]);
	free(at);
}

int cli_vm_restore(const struct cli_args *a, cap_err *err)
{
	struct vm_config host;
	struct vmm_snapshot_at *snaps = NULL;
	int nsnaps = 0, r;

	vm_config_init(&host);
	if (cli_flag(a, "debug"))
		cap_log_set_level(CAP_LOG_DEBUG);
	host.boot_timer = cli_flag(a, "boot-timer");
	const char *console = cli_str(a, "console");
	if ((r = console ? vm_config_set_console(&host, console, err) : 0) < 0 ||
	    (r = cli_vm_snapshots(a, true, &snaps, &nsnaps, err)) < 0)
		goto out;
	struct vm_snapshot_params p = {
		.state_path = cli_str(a, "state"),
		.mem_path = cli_str(a, "mem"),
		.resume = !cli_flag(a, "paused"),
	};
	if (!p.state_path || !p.mem_path) {
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm restore: --state FILE and --mem FILE are required");
		goto out;
	}
	/* With --id or --api-sock the restored VM is driven through its API (capsule vm resume NAME). */
	struct vmm_run_opts o = { .restore = &p, .snapshots = snaps, .nsnapshots = nsnaps, .id = cli_str(a, "id"),
				  .api_sock = cli_str(a, "api-sock") };
	char sock[256];
	if (o.id && !vmm_id_valid(o.id)) {
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm id '%.80s': want 1 to %d letters, digits, '_' or '-'", o.id,
				  VMM_ID_MAX);
		goto out;
	}
	if (o.id && !o.api_sock) {
		if (api_default_sock(o.id, sock, sizeof(sock)) < 0) {
			r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm restore: id '%s': too long for a socket path", o.id);
			goto out;
		}
		o.api_sock = sock;
		o.default_dir = true;
	}
	if (!p.resume && nsnaps == 0 && !o.api_sock) {
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0,
				  "vm restore: --paused without --snapshot or an API (--id, --api-sock) would never run");
		goto out;
	}
	r = vmm_run(&host, &o, err);
out:
	cli_vm_snapshots_free(snaps, nsnaps);
	vm_config_free(&host);
	return r < 0 ? -1 : r;
}

int cli_vm_snapshot_merge(const struct cli_args *a, cap_err *err)
{
	return vm_snapshot_merge(a->argv[0], (const char *const *)a->argv + 1, a->argc - 1, err) < 0 ? -1 : 0;
}
