/* Live migration of a running micro-VM to another Capsule process, over a stream socket
 * (unix:PATH or tcp:HOST:PORT).
 *
 * The source pre-copies guest RAM while the guest runs: every page with data, then, round after
 * round, the pages dirtied meanwhile (KVM's dirty log and the VMM's own writes), until what a
 * round leaves is small enough to be sent within the downtime target at the bandwidth measured;
 * then it pauses the VM, takes a diff snapshot (the last dirty pages and the whole device and
 * vCPU state, snapshot.h), sends it and waits for the destination to say the VM runs there. Only
 * then does the source stop; any failure before (a broken connection, a refusal, no answer)
 * resumes the source's VM as it was.
 *
 * The stream (both ends are this code; the destination trusts nothing of it):
 *   header  "CAPSMIG1", u32 version 1, u32 page size 4096, u64 RAM bytes
 *   record  u32 type, u32 0, u64 offset, u64 length, then length bytes:
 *           1 PAGES (RAM bytes at offset), 2 STATE (the snapshot state file), 3 DONE
 *   answer  (destination -> source) 'R' when the VM runs, or 'E' and one line why
 * Integers are little-endian (both ends are x86-64). */
#ifndef CAPSULE_VMM_MIGRATE_H
#define CAPSULE_VMM_MIGRATE_H

#include <stdint.h>

#include "../lib/error.h"

struct vm;

struct vm_migrate_stats {
	int rounds;              /* pre-copy rounds after the first full pass */
	uint64_t bytes;          /* RAM bytes sent, all rounds and the final copy */
	uint64_t final_bytes;    /* of which while paused */
	double total_ms;         /* start to the destination's answer */
	double downtime_ms;      /* paused to the destination's answer */
};

#define MIGRATE_DEFAULT_DOWNTIME_MS 20
#define MIGRATE_MAX_ROUNDS 30

/* "unix:PATH" or "tcp:HOST:PORT" (HOST numeric IPv4/IPv6, or localhost): a connected socket, or a
 * listening one. */
int migrate_connect(const char *addr, cap_err *err);
int migrate_listen(const char *addr, cap_err *err);
/* accept() on a listening socket, the listener closed (and a unix socket's path removed). */
int migrate_accept(int lfd, const char *addr, cap_err *err);

/* Source: migrate vm (RUNNING or PAUSED) over fd. 0: the destination runs it; vm is PAUSED and the
 * caller stops it. < 0: vm is back in the state it had, err says why. */
int vm_migrate_send(struct vm *vm, int fd, unsigned max_downtime_ms, struct vm_migrate_stats *st, cap_err *err);

/* Destination: read the stream into two memfds (RAM, state); their /proc/self/fd paths go into
 * mem_path and state_path (PATH_MAX each) for vm_snapshot_restore. *fds gets both (close them
 * after the restore). */
int vm_migrate_receive(int fd, char *state_path, char *mem_path, int fds[2], cap_err *err);
/* Destination: tell the source how the restore went (err NULL: the VM runs). */
void vm_migrate_answer(int fd, const cap_err *err);

#endif
