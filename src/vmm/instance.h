/* One VMM process's VM, as the main loop and the HTTP API see it: the configuration gathered
 * before boot (from the command line and from the API, both through config.c's validator), the
 * VM once it is created, and the steps the API may ask for (boot, pause, resume, snapshot).
 *
 * Everything here runs on the main thread (the VM's owner, machine.h). The steps go through an
 * ops table so that the API's request path can also run without KVM (the fuzz target gives
 * it steps that refuse). */
#ifndef CAPSULE_VMM_INSTANCE_H
#define CAPSULE_VMM_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/error.h"
#include "config.h"
#include "console.h"
#include "vm.h"

#define VMM_ID_MAX 64
#define VMM_DEFAULT_ID "anonymous-instance"

struct vmm_instance;
struct vm_snapshot_params;
struct vm_migrate_stats;

/* What the API asks of the VM; each returns 0 or -errno with err filled (CAP_EXIT_USAGE when
 * the request does not fit the VM's state: the API answers 400, else 500). */
struct vmm_ops {
	int (*boot)(struct vmm_instance *in, cap_err *err);            /* create, load, start */
	int (*pause)(struct vmm_instance *in, cap_err *err);
	int (*resume)(struct vmm_instance *in, cap_err *err);
	int (*ctrl_alt_del)(struct vmm_instance *in, cap_err *err);
	int (*snapshot_create)(struct vmm_instance *in, const struct vm_snapshot_params *p, cap_err *err);
	int (*snapshot_load)(struct vmm_instance *in, const struct vm_snapshot_params *p, cap_err *err);
	/* Live migration to dest ("unix:PATH", "tcp:HOST:PORT"; migrate.h); on success the VM is paused
	 * and the caller stops it. */
	int (*migrate)(struct vmm_instance *in, const char *dest, unsigned max_downtime_ms, struct vm_migrate_stats *st,
		       cap_err *err);
	void (*teardown)(struct vmm_instance *in);                      /* the VM and its console */
	/* PATCH /drives/{id}, /network-interfaces/{id} on the running VM (the device found by its API
	 * id): a new backing file (path, or NULL) and / or new limits (NULL: unchanged), in full. */
	int (*drive_update)(struct vmm_instance *in, const char *id, const char *path, const struct rl_config *rl,
			    cap_err *err);
	int (*net_update)(struct vmm_instance *in, const char *id, const struct rl_config *rx,
			  const struct rl_config *tx, cap_err *err);
	/* PUT /metrics: open the (existing) file or FIFO for appending; an fd or -errno. */
	int (*open_metrics)(struct vmm_instance *in, const char *path);
};

/* The states GET / reports (Firecracker's names). */
enum vmm_state { VMM_NOT_STARTED, VMM_RUNNING, VMM_PAUSED, VMM_STOPPED };

struct vmm_instance {
	char id[VMM_ID_MAX + 1];
	const struct vmm_ops *ops;
	struct vm_config cfg;          /* before boot; once booted, vm.cfg is the VM's own copy */
	bool track_dirty_pages;        /* machine-config: let snapshots be diffs */
	char *vsock_id;                /* PUT /vsock's, kept for GET /vm/config (drives' and interfaces' are in cfg) */
	uint64_t balloon_mib;          /* PUT/PATCH /balloon: the target */
	unsigned balloon_interval_s;

	struct vm vm;
	bool created;                  /* vm_create ran: vm_destroy is due */
	bool booted;                   /* InstanceStart (or a snapshot load) succeeded */
	struct evloop *loop;           /* the main loop */
	struct console con;
	bool con_attached;

	uint64_t t_process_ns;         /* when this process started serving (vm_now_ns) */
	uint64_t t_boot_ns;            /* when the VM started running, 0 before */
	uint64_t api_requests, api_errors;
	int metrics_fd;                /* PUT /metrics: where FlushMetrics writes, -1 before */
	char *metrics_path;
};

/* An instance not started yet, with the steps ops (vmm_real_ops: instance_ops.c); cfg is copied. */
int vmm_instance_init(struct vmm_instance *in, const char *id, const struct vm_config *cfg, struct evloop *loop,
		      const struct vmm_ops *ops, cap_err *err);
/* Tears the VM down (ops->teardown) and frees the rest. */
void vmm_instance_free(struct vmm_instance *in);
enum vmm_state vmm_instance_state(const struct vmm_instance *in);
const char *vmm_state_name(enum vmm_state s);
/* The configuration in force: the VM's once booted, else the one being gathered. */
const struct vm_config *vmm_instance_config(const struct vmm_instance *in);

/* Is name a usable VM id (1..VMM_ID_MAX of [A-Za-z0-9_-], as the jail's)? */
bool vmm_id_valid(const char *name);

extern const struct vmm_ops vmm_real_ops;

#endif
