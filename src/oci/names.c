/* Name tables: namespaces, capabilities, rlimits, signals, mount options. */
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "spec.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const char *const oci_ns_names[OCI_NS_COUNT] = {
	"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};
static const int ns_flags[OCI_NS_COUNT] = {
	CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWUSER,
	CLONE_NEWCGROUP, CLONE_NEWTIME,
};
static const char *const ns_proc[OCI_NS_COUNT] = {
	"pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time",
};

int oci_ns_flag(const char *type)
{
	for (int i = 0; i < OCI_NS_COUNT; i++)
		if (!strcmp(type, oci_ns_names[i]))
			return ns_flags[i];
	return -1;
}

const char *oci_ns_name(int flag)
{
	for (int i = 0; i < OCI_NS_COUNT; i++)
		if (ns_flags[i] == flag)
			return oci_ns_names[i];
	return "?";
}

const char *oci_ns_proc_name(int flag)
{
	for (int i = 0; i < OCI_NS_COUNT; i++)
		if (ns_flags[i] == flag)
			return ns_proc[i];
	return "?";
}

/* Index = capability number (linux/capability.h). */
static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};
#define N_CAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

int oci_cap_number(const char *name)
{
	for (int i = 0; i < N_CAPS; i++)
		if (!strcasecmp(name, cap_names[i]))
			return i;
	return -1;
}

const char *oci_cap_name(int cap)
{
	return cap >= 0 && cap < N_CAPS ? cap_names[cap] : NULL;
}

int oci_cap_last(void)
{
	return N_CAPS - 1;
}

static const struct { const char *name; int res; } rlimits[] = {
	{ "RLIMIT_CPU", RLIMIT_CPU }, { "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_STACK", RLIMIT_STACK },
	{ "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_NPROC", RLIMIT_NPROC }, { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

int oci_rlimit_number(const char *name)
{
	for (size_t i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++)
		if (!strcmp(name, rlimits[i].name))
			return rlimits[i].res;
	return -1;
}

static const struct { const char *name; int sig; } signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS },
	{ "FPE", SIGFPE }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CLD", SIGCHLD }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO }, { "POLL", SIGPOLL },
	{ "PWR", SIGPWR }, { "SYS", SIGSYS },
};

int oci_signal_number(const char *s)
{
	char *end;

	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)*s)) {
		long n = strtol(s, &end, 10);
		return *end || n <= 0 || n > 64 ? -1 : (int)n;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
		bool max = toupper((unsigned char)s[3]) == 'A';
		int base = max ? SIGRTMAX : SIGRTMIN;
		if (!s[5])
			return base;
		long off = strtol(s + 5, &end, 10);
		if (*end || (max ? off > 0 : off < 0))
			return -1;
		int sig = base + (int)off;
		return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
	}
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (!strcasecmp(s, signals[i].name))
			return signals[i].sig;
	return -1;
}

/* Options a mount's "options" array may carry besides filesystem data. */
static const struct {
	const char *name;
	unsigned long set, clear, prop;
	bool bind;
} mopts[] = {
	{ "defaults", 0, 0, 0, false },
	{ "ro", MS_RDONLY, 0, 0, false }, { "rw", 0, MS_RDONLY, 0, false },
	{ "suid", 0, MS_NOSUID, 0, false }, { "nosuid", MS_NOSUID, 0, 0, false },
	{ "dev", 0, MS_NODEV, 0, false }, { "nodev", MS_NODEV, 0, 0, false },
	{ "exec", 0, MS_NOEXEC, 0, false }, { "noexec", MS_NOEXEC, 0, 0, false },
	{ "sync", MS_SYNCHRONOUS, 0, 0, false }, { "async", 0, MS_SYNCHRONOUS, 0, false },
	{ "dirsync", MS_DIRSYNC, 0, 0, false }, { "remount", MS_REMOUNT, 0, 0, false },
	{ "mand", MS_MANDLOCK, 0, 0, false }, { "nomand", 0, MS_MANDLOCK, 0, false },
	{ "atime", 0, MS_NOATIME, 0, false }, { "noatime", MS_NOATIME, 0, 0, false },
	{ "diratime", 0, MS_NODIRATIME, 0, false }, { "nodiratime", MS_NODIRATIME, 0, 0, false },
	{ "relatime", MS_RELATIME, 0, 0, false }, { "norelatime", 0, MS_RELATIME, 0, false },
	{ "strictatime", MS_STRICTATIME, 0, 0, false },
	{ "nostrictatime", 0, MS_STRICTATIME, 0, false },
	{ "silent", MS_SILENT, 0, 0, false }, { "loud", 0, MS_SILENT, 0, false },
	{ "bind", MS_BIND, 0, 0, true }, { "rbind", MS_BIND | MS_REC, 0, 0, true },
	{ "private", 0, 0, MS_PRIVATE, false }, { "rprivate", 0, 0, MS_PRIVATE | MS_REC, false },
	{ "shared", 0, 0, MS_SHARED, false }, { "rshared", 0, 0, MS_SHARED | MS_REC, false },
	{ "slave", 0, 0, MS_SLAVE, false }, { "rslave", 0, 0, MS_SLAVE | MS_REC, false },
	{ "unbindable", 0, 0, MS_UNBINDABLE, false },
	{ "runbindable", 0, 0, MS_UNBINDABLE | MS_REC, false },
	/* Handled by the runtime rather than the kernel; accepted and ignored. */
	{ "tmpcopyup", 0, 0, 0, false }, { "idmap", 0, 0, 0, false }, { "ridmap", 0, 0, 0, false },
	{ "nocopyup", 0, 0, 0, false }, { "copy-symlink", 0, 0, 0, false },
};

const char *const oci_mount_option_names[] = {
	"defaults", "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "sync",
	"async", "dirsync", "remount", "mand", "nomand", "atime", "noatime", "diratime",
	"nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime", "silent", "loud",
	"bind", "rbind", "private", "rprivate", "shared", "rshared", "slave", "rslave",
	"unbindable", "runbindable", "tmpcopyup", NULL,
};

int oci_mount_option(const char *opt, unsigned long *set, unsigned long *clear,
		     unsigned long *prop, bool *bind)
{
	for (size_t i = 0; i < sizeof(mopts) / sizeof(mopts[0]); i++) {
		if (strcmp(opt, mopts[i].name))
			continue;
		*set = (*set & ~mopts[i].clear) | mopts[i].set;
		*clear = (*clear & ~mopts[i].set) | mopts[i].clear;
		if (mopts[i].prop)
			*prop = mopts[i].prop;
		if (mopts[i].bind)
			*bind = true;
		return 1;
	}
	return 0;
}

int oci_parse_bytes(const char *s, bool units, long long *out)
{
	static const char mult[] = "bkmgtp";
	char *end;
	errno = 0;
	if (!s || !*s)
		return -EINVAL;
	if (!units) {
		long long v = strtoll(s, &end, 10);
		if (errno || *end || end == s || v < -1)
			return -EINVAL;
		*out = v;
		return 0;
	}
	if (!strcmp(s, "-1")) {
		*out = -1;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	double v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	int shift = 0;
	if (*end) {
		const char *m = strchr(mult, tolower((unsigned char)*end));
		if (!m)
			return -EINVAL;
		shift = 10 * (int)(m - mult);
		end++;
		/* "k", "kb", "ki", "kib"; a bare "b" takes no suffix */
		if (shift && (*end == 'i' || *end == 'I'))
			end++;
		if (shift && (*end == 'b' || *end == 'B'))
			end++;
		if (*end)
			return -EINVAL;
	}
	v *= (double)(1ULL << shift);
	if (v >= 9.2e18)
		return -EINVAL;
	*out = (long long)v;
	return 0;
}
