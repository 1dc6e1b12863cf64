/* Snapshots `capsule vm run` takes on a schedule (--snapshot after=MS,state=F,mem=F[,diff]):
 * a timer on the main loop pauses the VM when the next one is due, writes it (several due at
 * the same time are written back to back, the VM staying paused between them), and resumes
 * the VM; after the last one the run ends, with the VM's state in the files. An on=usr1 one is
 * taken when capsule gets SIGUSR1 instead (with the timed ones after=0 after it, at once). */
#ifndef CAPSULE_VMM_RUN_SNAPSHOT_H
#define CAPSULE_VMM_RUN_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/error.h"
#include "../lib/evloop.h"
#include "snapshot.h"
#include "vm.h"

struct vmm_snapshot_at {
	uint64_t after_ms;		/* since the VM started running (or was restored) */
	bool on_usr1;			/* instead: when capsule gets SIGUSR1 */
	struct vm_snapshot_params p;	/* p.resume is ignored: the schedule decides */
	char *buf;			/* what p's paths point into (run_snapshot_parse) */
};

/* "after=MS|on=usr1,state=PATH,mem=PATH[,diff]" (the --snapshot value) into a; usage errors
 * name the spec. run_snapshot_at_free releases it. */
int run_snapshot_parse(const char *spec, struct vmm_snapshot_at *a, cap_err *err);
void run_snapshot_at_free(struct vmm_snapshot_at *a);
/* at[] must be in order of after_ms; a booted VM's first snapshot must be a full one (a
 * restored VM's base is the memory file it came from). */
int run_snapshots_check(const struct vmm_snapshot_at *at, int n, bool restored, cap_err *err);

struct run_snapshots {
	struct vm *vm;
	struct evloop *loop;
	const struct vmm_snapshot_at *at;
	int n, next;
	int tfd;			/* timerfd, -1 when none */
	uint64_t t0_ns;
	bool done;			/* the last one is written: the run ends with 0 */
	int r;				/* the first failure (err has it) */
	cap_err err;
};

/* Any diff in at[]: dirty tracking must be on from the start. */
bool run_snapshots_need_dirty_log(const struct vmm_snapshot_at *at, int n);
/* Start the schedule on loop (the VM has just started). n == 0: nothing to do. */
int run_snapshots_start(struct run_snapshots *s, struct vm *vm, struct evloop *loop,
			const struct vmm_snapshot_at *at, int n, cap_err *err);
void run_snapshots_free(struct run_snapshots *s);
/* capsule got SIGUSR1: take the next snapshot now if it is an on=usr1 one. */
void run_snapshots_signal(struct run_snapshots *s);

#endif
