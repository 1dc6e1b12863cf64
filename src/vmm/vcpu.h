/* vCPUs: one thread each, running KVM_RUN and dispatching exits to the buses. */
#ifndef CAPSULE_VMM_VCPU_H
#define CAPSULE_VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../lib/error.h"

struct vm;
struct boot_info;
struct kvm_cpuid2;
struct kvm_run;
struct cpuid_policy;

/* KVM exits by reason, counted by each vCPU thread (relaxed atomics) for the API's metrics. */
enum vcpu_exit_kind {
	VCPU_EXIT_IO, VCPU_EXIT_MMIO, VCPU_EXIT_HLT, VCPU_EXIT_SYSTEM_EVENT, VCPU_EXIT_SHUTDOWN,
	VCPU_EXIT_INTERNAL_ERROR, VCPU_EXIT_FAIL_ENTRY, VCPU_EXIT_INTERRUPTED, VCPU_EXIT_OTHER, VCPU_EXIT_KINDS
};
extern const char *const vcpu_exit_kind_names[VCPU_EXIT_KINDS];

struct vcpu {
	struct vm *vm;
	int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	/* Under vm->pause_lock: parked at the pause point after KVM_RUN returned; the thread ended. */
	bool parked, exited;
	uint64_t exits[VCPU_EXIT_KINDS];
};

/* Signal used to kick a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL (SIGRTMIN + 1)

/* Create vCPU `index`: KVM fd, kvm_run mapping, CPUID, FPU, LAPIC LINT pins. */
int vcpu_create(struct vcpu *v, struct vm *vm, int index, const struct kvm_cpuid2 *base,
		const struct cpuid_policy *pol, cap_err *err);
/* Registers for the boot entry (BSP; every vCPU for test guests). */
int vcpu_setup_boot(struct vcpu *v, const struct boot_info *bi, cap_err *err);
int vcpu_start(struct vcpu *v, cap_err *err);
/* Make KVM_RUN return (now, or at once when the thread is about to enter it); the thread then
 * looks at the VM's state: ends when STOPPED, parks while a pause is requested. */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
void vcpu_free(struct vcpu *v);
/* The sum over n vCPUs of each exit kind, into out[VCPU_EXIT_KINDS]. */
void vcpu_exit_counts(const struct vcpu *v, int n, uint64_t *out);
/* Install the (empty) kick signal handler once per process. */
void vcpu_install_kick_handler(void);

#endif
