/* Snapshot and restore of a micro-VM: the seam the HTTP API (PUT /snapshot/create,
 * PUT /snapshot/load) and the CLI call.
 *
 * A snapshot is two files: the state file (vCPUs, irqchip, PIT, kvmclock, every device through
 * its registry save op, in a versioned, checksummed format: docs/snapshot.md) and the memory
 * file (guest RAM as it is, byte for byte, holes where the guest never wrote). A restore maps the
 * memory file MAP_PRIVATE, so pages come in on first touch and restore time does not grow with
 * the guest's memory size.
 *
 * Both calls return 0 or a negative errno with err filled with one line naming the file and the
 * reason (a hostile, truncated, corrupted, wrong-version or wrong-host file is refused). Usage
 * errors (wrong VM state) carry CAP_EXIT_USAGE, which the API turns into a 400. */
#ifndef CAPSULE_VMM_SNAPSHOT_H
#define CAPSULE_VMM_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/error.h"
#include "config.h"

struct vm;

struct vm_snapshot_params {
	const char *state_path;	/* the state file (written, or read) */
	const char *mem_path;	/* the guest memory file (written, or mapped) */
	/* create: write only the pages dirtied since the previous snapshot (or since
	 * vm_snapshot_track_dirty) into mem_path, as a sparse file over the same offsets; the
	 * memory file of a full snapshot is the base vm_snapshot_merge folds diffs onto. */
	bool diff;
	/* create: resume the VM afterwards (it stays PAUSED otherwise);
	 * restore: start it running (it starts PAUSED otherwise). */
	bool resume;
};

/* Snapshot a PAUSED VM (vm_pause: every vCPU out of KVM_RUN, the I/O thread quiesced). Files
 * are written next to their final names and renamed into place, so a failure leaves nothing. */
int vm_snapshot_create(struct vm *vm, const struct vm_snapshot_params *p, cap_err *err);

/* Build a new VM from a snapshot: vm is uninitialised (as for vm_create; vm_destroy it after,
 * also after a failure). host gives the host-side settings of the new process (console,
 * boot timer, and a vsock socket path to use instead of the snapshot's; NULL: console none); what the guest sees (memory, vCPUs, devices) comes from the
 * state file. The VM ends RUNNING when p->resume, else PAUSED (vm_resume starts it). */
int vm_snapshot_restore(struct vm *vm, const struct vm_snapshot_params *p, const struct vm_config *host,
			cap_err *err);

/* Turn on KVM's dirty-page log for guest RAM, so that the next snapshot can be a diff. A full
 * snapshot taken while tracking also resets the log. */
int vm_snapshot_track_dirty(struct vm *vm, cap_err *err);

/* Call cb for each run of RAM pages dirtied since the last snapshot or call (KVM's dirty log and
 * the VMM's own writes; both are cleared): off and len in bytes from the start of guest RAM,
 * as in the memory file. -ENOENT when tracking is off. Live migration's pre-copy rounds. */
int vm_snapshot_dirty_ranges(struct vm *vm, int (*cb)(void *ctx, uint64_t off, uint64_t len), void *ctx,
			     uint64_t *npages);

/* Fold diff memory files onto a base memory file, in order (capsule vm snapshot merge). The
 * diffs must be of the same size as the base. */
int vm_snapshot_merge(const char *base_mem, const char *const *diffs, int ndiffs, cap_err *err);

#endif
