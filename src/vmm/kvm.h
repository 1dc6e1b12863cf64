/* /dev/kvm: opening it, checking what Capsule needs, and recognising this host's kind of KVM. */
#ifndef CAPSULE_VMM_KVM_H
#define CAPSULE_VMM_KVM_H

#include <stdbool.h>

#include "../lib/error.h"

struct kvm_cpuid2;

/* Path of the KVM device: $CAPSULE_KVM if set (tests use it), else /dev/kvm. */
const char *kvm_device_path(void);
/* Open KVM, check the API version and every capability the VMM relies on. Returns the fd. */
int kvm_open(cap_err *err);
/* KVM's vCPU limit (KVM_CAP_MAX_VCPUS, or NR_VCPUS, or 4). */
int kvm_max_vcpus(int kvm_fd);
/* True when /dev/kvm is the kvm_pvm module (nested, pagetable-based; ring 0 emulated). */
bool kvm_is_pvm_host(void);
/* KVM_GET_SUPPORTED_CPUID into a malloc'd table (caller frees). */
struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd, cap_err *err);

#endif
