/* config.json as a C structure. Parsing validates everything the runtime acts on and
 * names the JSON path of the first bad field; unknown properties are ignored, as the
 * runtime-spec requires. Strings point into the jansson tree kept in spec->root. */
#ifndef CAPSULE_OCI_SPEC_H
#define CAPSULE_OCI_SPEC_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "../lib/error.h"
#include "oci.h"

#define OCI_NS_COUNT 8

enum oci_cap_set { CAPSET_BOUNDING, CAPSET_EFFECTIVE, CAPSET_PERMITTED, CAPSET_INHERITABLE,
		   CAPSET_AMBIENT, CAPSET_COUNT };

struct oci_mount {
	const char *dest, *type, *source;
	unsigned long flags;        /* MS_* set */
	unsigned long clear;        /* MS_* explicitly cleared (rw, suid...), for bind remounts */
	unsigned long propagation;  /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) */
	bool bind;
	char *data;                 /* comma-joined filesystem options */
};

struct oci_ns {
	int flag;          /* CLONE_NEW* */
	const char *path;  /* join this one instead of creating */
};

struct oci_idmap { uint32_t container, host, size; };

struct oci_rlimit { int resource; uint64_t soft, hard; };

struct oci_device {
	const char *path;
	char type;         /* c, b, u, p */
	int64_t major, minor;
	uint32_t mode;
	bool has_mode, has_uid, has_gid;
	uint32_t uid, gid;
};

struct oci_dev_rule {
	bool allow;
	char type;         /* a, c, b */
	int64_t major, minor;   /* -1 = any */
	char access[4];
};

struct oci_throttle { int64_t major, minor; uint64_t rate; };
struct oci_weight_dev { int64_t major, minor; int64_t weight, leaf; };
struct oci_hugepage { const char *size; uint64_t limit; };
struct oci_netprio { const char *name; uint32_t prio; };

struct oci_resources {
	/* -1 / 0 / NULL = not set */
	int64_t mem_limit, mem_reservation, mem_swap, mem_kernel, mem_kernel_tcp, mem_swappiness;
	bool mem_disable_oom, has_disable_oom;
	uint64_t cpu_shares, cpu_period;
	int64_t cpu_quota;          /* -1 unlimited; INT64_MIN not set */
	int64_t cpu_rt_runtime;
	uint64_t cpu_rt_period;
	const char *cpus, *mems;
	int64_t pids_limit;         /* 0 = not set, -1 unlimited */
	bool has_pids;
	int64_t blkio_weight, blkio_leaf_weight;
	struct oci_weight_dev *weight_dev; size_t n_weight_dev;
	struct oci_throttle *thr[4]; size_t n_thr[4];   /* read bps, write bps, read iops, write iops */
	struct oci_hugepage *huge; size_t n_huge;
	struct oci_dev_rule *devrules; size_t n_devrules;
	json_t *unified;            /* v2 key -> value map, borrowed */
	bool has_classid;           /* network.classID (net_cls) */
	uint32_t classid;
	struct oci_netprio *prio; size_t n_prio;   /* network.priorities (net_prio) */
};

struct oci_hook {
	const char *path;
	const char **args, **env;
	int timeout;        /* seconds, 0 = none */
};

enum oci_hook_kind { HOOK_PRESTART, HOOK_CREATE_RUNTIME, HOOK_CREATE_CONTAINER,
		     HOOK_START_CONTAINER, HOOK_POSTSTART, HOOK_POSTSTOP, HOOK_KINDS };

struct oci_hooks { struct oci_hook *h[HOOK_KINDS]; size_t n[HOOK_KINDS]; };

struct oci_process {
	bool terminal;
	unsigned console_h, console_w;
	uid_t uid; gid_t gid;
	gid_t *groups; size_t n_groups;
	int umask;            /* -1 = not set */
	const char **args; size_t n_args;
	const char **env; size_t n_env;
	const char *cwd;
	uint64_t caps[CAPSET_COUNT];
	bool has_caps;
	struct oci_rlimit *rlimits; size_t n_rlimits;
	bool no_new_privs;
	bool has_oom_score_adj; int oom_score_adj;
	const char *apparmor, *selinux;
};

struct oci_sysctl { const char *key, *value; };

struct oci_spec {
	json_t *root;               /* owns all strings */
	const char *oci_version;
	struct oci_process proc;
	bool has_process;
	const char *root_path;      /* as given */
	bool root_readonly;
	const char *hostname, *domainname;
	struct oci_mount *mounts; size_t n_mounts;
	struct oci_ns ns[OCI_NS_COUNT]; size_t n_ns;
	int clone_flags;            /* namespaces to create */
	struct oci_idmap *uidmap, *gidmap; size_t n_uidmap, n_gidmap;
	struct oci_device *devices; size_t n_devices;
	const char *cgroups_path;
	struct oci_resources res;
	bool has_resources;
	struct oci_sysctl *sysctl; size_t n_sysctl;
	const char **masked; size_t n_masked;
	const char **readonly; size_t n_readonly;
	unsigned long rootfs_propagation;
	json_t *seccomp;            /* borrowed; compiled by seccomp.c */
	struct oci_hooks hooks;
	json_t *hooks_json;         /* borrowed; kept in state.json for start/delete */
	json_t *annotations;        /* borrowed */
	const char *mount_label;
	char time_offsets[128];     /* "monotonic S N\nboottime S N\n" for timens_offsets */
};

/* Parse config.json at path (file name used in messages as "config.json"). */
/* The container has a namespace of this type (CLONE_NEW*): a new one, or one joined by path. */
static inline bool oci_spec_has_ns(const struct oci_spec *s, int flag)
{
	for (size_t i = 0; i < s->n_ns; i++)
		if (s->ns[i].flag == flag)
			return true;
	return false;
}

static inline bool oci_spec_userns(const struct oci_spec *s)
{
	return oci_spec_has_ns(s, CLONE_NEWUSER);
}

int oci_spec_load(const char *path, struct oci_spec *spec, cap_err *err);
/* Parse an already loaded tree; takes ownership of root. */
int oci_spec_parse(json_t *root, struct oci_spec *spec, cap_err *err);
void oci_spec_free(struct oci_spec *spec);

/* The "hooks" object into s->hooks (strings borrowed from h). */
int oci_hooks_parse(json_t *h, struct oci_spec *s, cap_err *err);

/* A process object (config.json's "process", or exec --process FILE). */
int oci_process_parse(json_t *p, const char *where, struct oci_process *proc, cap_err *err);
void oci_process_free(struct oci_process *proc);

/* Resources (linux.resources, or update --resources FILE). */
int oci_resources_parse(json_t *r, const char *where, struct oci_resources *res, cap_err *err);
void oci_resources_free(struct oci_resources *res);
void oci_resources_init(struct oci_resources *res);

/* Name tables shared with features/spec and the unit tests. */
int oci_ns_flag(const char *type);            /* "pid" -> CLONE_NEWPID, -1 if unknown */
const char *oci_ns_name(int flag);
const char *oci_ns_proc_name(int flag);       /* CLONE_NEWNET -> "net" (/proc/PID/ns/...) */
int oci_cap_number(const char *name);         /* "CAP_CHOWN" -> 0, -1 if unknown */
const char *oci_cap_name(int cap);
int oci_cap_last(void);
int oci_rlimit_number(const char *name);      /* "RLIMIT_NOFILE" -> 7 */
/* Mount option -> flags; returns 1 if it was a flag, 0 if it is filesystem data. */
int oci_mount_option(const char *opt, unsigned long *set, unsigned long *clear,
		     unsigned long *prop, bool *bind);

extern const char *const oci_ns_names[OCI_NS_COUNT];
extern const char *const oci_mount_option_names[];

#endif
