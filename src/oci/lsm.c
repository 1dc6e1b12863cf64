/* The LSM labels of a container: AppArmor through /proc/self/attr/apparmor/exec ("exec
 * PROFILE", what libapparmor's aa_change_onexec writes), SELinux through /proc/self/attr/exec
 * (setexeccon) and context= mount options (runc's label.FormatMountLabel). */
#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool read_small(const char *path, char *buf, size_t sz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sz - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = 0;
	return true;
}

bool oci_lsm_active(enum oci_lsm which)
{
	const char *name = which == OCI_LSM_APPARMOR ? "apparmor" : "selinux";
	char buf[512];
	if (read_small("/sys/kernel/security/lsm", buf, sizeof(buf))) {
		for (char *save = NULL, *t = strtok_r(buf, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save))
			if (!strcmp(t, name))
				return true;
		return false;
	}
	if (which == OCI_LSM_APPARMOR)
		return read_small("/sys/module/apparmor/parameters/enabled", buf, sizeof(buf)) && buf[0] == 'Y';
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

static int need(enum oci_lsm which, const char *field, const char *value, cap_err *err)
{
	if (!value || !*value || oci_lsm_active(which))
		return 0;
	return cap_errf(err, 0, "config.json: %s: '%s' needs %s, which this host does not run", field, value,
			which == OCI_LSM_APPARMOR ? "AppArmor" : "SELinux");
}

int oci_lsm_check(const struct oci_spec *s, const struct oci_process *p, cap_err *err)
{
	if (s && need(OCI_LSM_SELINUX, "linux.mountLabel", s->mount_label, err) < 0)
		return -EINVAL;
	if (p && (need(OCI_LSM_APPARMOR, "process.apparmorProfile", p->apparmor, err) < 0 ||
		  need(OCI_LSM_SELINUX, "process.selinuxLabel", p->selinux, err) < 0))
		return -EINVAL;
	return 0;
}

static int write_attr(const char *path, const char *what, const char *field, const char *value,
		      cap_err *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, what, strlen(what));
	int e = errno;
	close(fd);
	if (n < 0)
		return cap_errf(err, e, "%s: cannot apply '%s'", field, value);
	return 0;
}

int oci_lsm_set_exec(const struct oci_process *p, cap_err *err)
{
	int r;
	if (oci_lsm_check(NULL, p, err) < 0)
		return -EINVAL;
	if (p->apparmor && *p->apparmor) {
		char cmd[4096 + 8];
		if (snprintf(cmd, sizeof(cmd), "exec %s", p->apparmor) >= (int)sizeof(cmd))
			return cap_errf(err, 0, "process.apparmorProfile: too long");
		/* the stacked interface first (5.x+), then the one shared with other LSMs */
		r = write_attr("/proc/self/attr/apparmor/exec", cmd, "process.apparmorProfile", p->apparmor, err);
		if (r == -ENOENT)
			r = write_attr("/proc/self/attr/exec", cmd, "process.apparmorProfile", p->apparmor, err);
		if (r < 0)
			return err->set ? r : cap_errf(err, -r, "process.apparmorProfile: cannot apply '%s'", p->apparmor);
	}
	if (p->selinux && *p->selinux) {
		r = write_attr("/proc/self/attr/exec", p->selinux, "process.selinuxLabel", p->selinux, err);
		if (r < 0)
			return err->set ? r : cap_errf(err, -r, "process.selinuxLabel: cannot apply '%s'", p->selinux);
	}
	return 0;
}

int oci_lsm_mount_data(const char *label, const char *type, const char *data, char *buf, size_t sz,
		       const char **out)
{
	static const char *const none[] = { "proc", "sysfs", "cgroup", "cgroup2" };
	*out = data;
	if (!label || !*label || !type)
		return 0;
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		if (!strcmp(type, none[i]))
			return 0;
	if (snprintf(buf, sz, "%s%scontext=\"%s\"", data ? data : "", data && *data ? "," : "", label) >=
	    (int)sz)
		return -1;
	*out = buf;
	return 0;
}
