/* `capsule vm run` and `capsule vm restore`: create a VM from a config (or wait for the API to
 * configure and start it, or restore one from a snapshot), run it to its end, report why it
 * ended. */
#ifndef CAPSULE_VMM_RUN_H
#define CAPSULE_VMM_RUN_H

#include "../lib/error.h"
#include "run_snapshot.h"
#include "snapshot.h"
#include "vm.h"

struct vmm_run_opts {
	const char *id;         /* the VM's name (GET /, capsule vm ls); NULL: anonymous */
	const char *api_sock;   /* serve the HTTP API here; NULL: no API */
	bool default_dir;       /* api_sock is in API_RUN_DIR, which is made if missing */
	const char *config_file; /* Firecracker's config-file shape, applied over cfg before boot */
	/* Restore this snapshot instead of booting a kernel (capsule vm restore); cfg then gives
	 * only the host side (console, boot timer). The guest runs when restore->resume. */
	const struct vm_snapshot_params *restore;
	/* Wait on this address (unix:PATH, tcp:HOST:PORT) for a live migration (capsule vm receive)
	 * and restore what arrives; the guest runs unless receive_paused. */
	const char *receive;
	bool receive_paused;
	/* Snapshots to take while it runs (--snapshot, run_snapshot.h); after the last one the
	 * run ends with 0. */
	const struct vmm_snapshot_at *snapshots;
	int nsnapshots;
};

/* Returns capsule's exit code (0 after a clean poweroff/reboot), or fills err and returns -1.
 * Without a kernel (in cfg or the config file) or a snapshot to restore, an API socket is
 * needed: the VM boots on PUT /actions InstanceStart (or PUT /snapshot/load). */
int vmm_run(const struct vm_config *cfg, const struct vmm_run_opts *o, cap_err *err);

#endif
