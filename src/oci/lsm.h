/* process.apparmorProfile, process.selinuxLabel and linux.mountLabel. The spec makes a value
 * the runtime cannot apply an error: each is applied when the host runs that LSM and refused
 * with one line when it does not (they used to be ignored). */
#ifndef CAPSULE_OCI_LSM_H
#define CAPSULE_OCI_LSM_H

#include <stdbool.h>

#include "spec.h"

enum oci_lsm { OCI_LSM_APPARMOR, OCI_LSM_SELINUX };

/* The host runs that LSM (from /sys/kernel/security/lsm when securityfs is mounted, else
 * AppArmor's module parameter or a mounted selinuxfs). */
bool oci_lsm_active(enum oci_lsm which);

/* Every label of the config (p: its process, may be NULL) has its LSM on this host. */
int oci_lsm_check(const struct oci_spec *s, const struct oci_process *p, cap_err *err);

/* In the container, before the program is exec'd: the next execve enters p's AppArmor profile
 * or SELinux label (/proc/self/attr). Nothing to do when p asks for none. */
int oci_lsm_set_exec(const struct oci_process *p, cap_err *err);

/* *out: data with SELinux's context="label" option added for a mount of that type (proc,
 * sysfs and cgroup take none), or data itself when there is no mount label. -1 when it does
 * not fit in buf. */
int oci_lsm_mount_data(const char *label, const char *type, const char *data, char *buf, size_t sz,
		       const char **out);

#endif
