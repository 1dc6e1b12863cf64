/* `capsule vm run`: create a VM from a config (or wait for the API to configure and start it),
 * run it to its end, report why it ended. */
#ifndef CAPSULE_VMM_RUN_H
#define CAPSULE_VMM_RUN_H

#include "../lib/error.h"
#include "vm.h"

struct vmm_run_opts {
	const char *id;         /* the VM's name (GET /, capsule vm ls); NULL: anonymous */
	const char *api_sock;   /* serve the HTTP API here; NULL: no API */
	bool default_dir;       /* api_sock is in API_RUN_DIR, which is made if missing */
	const char *config_file; /* Firecracker's config-file shape, applied over cfg before boot */
};

/* Returns capsule's exit code (0 after a clean poweroff/reboot), or fills err and returns -1.
 * Without a kernel (in cfg or the config file), an API socket is needed: the VM boots on
 * PUT /actions InstanceStart. */
int vmm_run(const struct vm_config *cfg, const struct vmm_run_opts *o, cap_err *err);

#endif
