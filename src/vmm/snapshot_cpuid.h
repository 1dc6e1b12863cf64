/* Whether this host can run a snapshot's vCPUs: the CPU vendor must match and every feature the
 * snapshot's CPUID showed the guest must be offered here (the guest may use it the moment it
 * runs again). Pure, unit-tested (tests/unit/test_snapshot.c). */
#ifndef CAPSULE_VMM_SNAPSHOT_CPUID_H
#define CAPSULE_VMM_SNAPSHOT_CPUID_H

#include <stddef.h>
#include <stdint.h>

#include "vcpu_state.h"

/* 0 when compatible; -1 with why (one clause, e.g. "leaf 0x7 ebx lacks 0x20") otherwise. */
int snapshot_cpuid_check(const struct vcpu_cpuid_entry *saved, uint32_t nsaved, const struct vcpu_cpuid_entry *host,
			 uint32_t nhost, char *why, size_t whylen);

#endif
