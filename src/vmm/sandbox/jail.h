/* The jailer: the VMM process locks itself in before it opens the guest.
 *
 * vm_jail_enter() runs before any VMM thread exists. It splits the process in two:
 *  - the supervisor (the original process) stays on the host, forwards stop signals, waits for
 *    the VMM, then removes the jail directory and the per-VM cgroups and exits with the VMM's
 *    status (it never returns);
 *  - the VMM (its child, PID 1 of a new PID namespace, in new mount and IPC namespaces and
 *    optionally a given network namespace) joins the per-VM cgroups, builds the jail root
 *    CHROOT_BASE/<id>/root (the kernel, initrd and disks bind-mounted in, read-only unless a
 *    disk is read-write; /dev/kvm, /dev/net/tun and /dev/urandom made with mknod), pivots into
 *    it, closes every fd but 0-2, drops to the given uid/gid with no capabilities and
 *    no_new_privs, and returns 0 with the VM configuration's paths rewritten to the jail's.
 * The guest's devices, memory and KVM are opened only after that, inside the jail.
 *
 * Host facts the VMM probes through /sys (kvm_is_pvm_host) are read before the pivot. */
#ifndef CAPSULE_VMM_SANDBOX_JAIL_H
#define CAPSULE_VMM_SANDBOX_JAIL_H

#include <stdbool.h>
#include <sys/types.h>

#include "../../lib/error.h"
#include "../config.h"

#define VM_JAIL_DEFAULT_BASE "/srv/capsule/jail"
#define VM_JAIL_DEFAULT_UID 65534 /* nobody */
#define VM_JAIL_DEFAULT_GID 65534 /* nogroup */
#define VM_JAIL_MAX_CGROUP 16
/* The API socket inside the jail (its /run is the VMM's). */
#define VM_JAIL_API_SOCK "/run/api.sock"

struct vm_jail_cgroup {
	char *key;   /* controller file, "cpu.cfs_quota_us" */
	char *value;
};

struct vm_jail_config {
	bool enabled;
	char *id;          /* the jail's name: [A-Za-z0-9_-]{1,64} */
	uid_t uid;
	gid_t gid;
	char *base;        /* CHROOT_BASE (NULL: VM_JAIL_DEFAULT_BASE) */
	char *netns;       /* a network namespace to join (/var/run/netns/NAME); NULL: the host's */
	int ncgroups;
	struct vm_jail_cgroup cgroups[VM_JAIL_MAX_CGROUP];
};

void vm_jail_config_init(struct vm_jail_config *j);
void vm_jail_config_free(struct vm_jail_config *j);
/* Setters from strings, as a user writes them; each checks its value. */
int vm_jail_set_id(struct vm_jail_config *j, const char *id, cap_err *err);
int vm_jail_set_uid(struct vm_jail_config *j, const char *s, cap_err *err);
int vm_jail_set_gid(struct vm_jail_config *j, const char *s, cap_err *err);
int vm_jail_set_base(struct vm_jail_config *j, const char *dir, cap_err *err);
int vm_jail_set_netns(struct vm_jail_config *j, const char *path, cap_err *err);
int vm_jail_add_cgroup(struct vm_jail_config *j, const char *kv, cap_err *err); /* KEY=VALUE */
/* The jail options make sense together and with the VM configuration (an id is given; no
 * option a jailed VMM cannot honour). */
int vm_jail_validate(const struct vm_jail_config *j, const struct vm_config *vm, cap_err *err);

/* See above. Returns 0 in the jailed VMM (cfg's paths now point inside the jail), or a negative
 * errno with err set when the jail could not be made (nothing is left behind). The supervisor
 * does not return. */
int vm_jail_enter(const struct vm_jail_config *j, struct vm_config *cfg, cap_err *err);

/* The jail root on the host, CHROOT_BASE/<id>/root (for messages and docs). */
/* (While the VM runs, API_RUN_DIR/<id>.sock is a symlink to its API socket in the jail.) */
int vm_jail_root(const struct vm_jail_config *j, char *out, size_t outsz);

#endif
