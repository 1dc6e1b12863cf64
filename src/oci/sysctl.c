/* The namespaced sysctls, as runc's validator lists them (libcontainer/configs/validate). */
#include "sysctl.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The key with '/' turned into '.', so that "net/ipv4/ip_forward" is judged as the dotted form. */
static void dotted(const char *key, char *out, size_t sz)
{
	snprintf(out, sz, "%s", key);
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '.';
}

int oci_sysctl_ns(const char *key)
{
	static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
					   "kernel.sem", "kernel.shmall", "kernel.shmmax",
					   "kernel.shmmni", "kernel.shm_rmid_forced" };
	char k[256];
	dotted(key, k, sizeof(k));
	for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
		if (!strcmp(k, ipc[i]))
			return CLONE_NEWIPC;
	if (!strncmp(k, "fs.mqueue.", 10) && k[10])
		return CLONE_NEWIPC;
	if (!strncmp(k, "net.", 4) && k[4])
		return CLONE_NEWNET;
	if (!strcmp(k, "kernel.hostname") || !strcmp(k, "kernel.domainname"))
		return CLONE_NEWUTS;
	return 0;
}

/* A namespace joined by path that is the runtime's own is the host's as far as sysctls go. */
static bool is_own_ns(const char *path, int flag)
{
	char self[64];
	struct stat a, b;
	snprintf(self, sizeof(self), "/proc/self/ns/%s", oci_ns_proc_name(flag));
	return stat(path, &a) == 0 && stat(self, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int oci_sysctl_check(const struct oci_spec *s, cap_err *err)
{
	for (size_t i = 0; i < s->n_sysctl; i++) {
		const char *key = s->sysctl[i].key;
		int flag = oci_sysctl_ns(key);
		if (!flag)
			return cap_errf(err, 0, "config.json: linux.sysctl.%s: not a namespaced sysctl (it would change the host)",
					key);
		const struct oci_ns *ns = NULL;
		for (size_t k = 0; k < s->n_ns; k++)
			if (s->ns[k].flag == flag)
				ns = &s->ns[k];
		if (!ns || (ns->path && is_own_ns(ns->path, flag)))
			return cap_errf(err, 0, "config.json: linux.sysctl.%s: needs the container's own %s namespace", key,
					oci_ns_name(flag));
	}
	return 0;
}
