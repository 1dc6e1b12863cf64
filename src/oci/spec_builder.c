/* The runtime config as a jansson tree, built and edited field by field (spec_builder.h). */
#include "spec_builder.h"

#include <errno.h>
#include <string.h>

#include "oci.h"
#include "spec.h"

#define DEFAULT_CAPS "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"

static json_t *default_mounts(void)
{
	return json_pack(
		"[{s:s,s:s,s:s},"
		" {s:s,s:s,s:s,s:[ssss]},"
		" {s:s,s:s,s:s,s:[ssssss]},"
		" {s:s,s:s,s:s,s:[sssss]},"
		" {s:s,s:s,s:s,s:[sss]},"
		" {s:s,s:s,s:s,s:[ssss]},"
		" {s:s,s:s,s:s,s:[sssss]}]",
		"destination", "/proc", "type", "proc", "source", "proc",
		"destination", "/dev", "type", "tmpfs", "source", "tmpfs",
		"options", "nosuid", "strictatime", "mode=755", "size=65536k",
		"destination", "/dev/pts", "type", "devpts", "source", "devpts",
		"options", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
		"destination", "/dev/shm", "type", "tmpfs", "source", "shm",
		"options", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k",
		"destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue",
		"options", "nosuid", "noexec", "nodev",
		"destination", "/sys", "type", "sysfs", "source", "sysfs",
		"options", "nosuid", "noexec", "nodev", "ro",
		"destination", "/sys/fs/cgroup", "type", "cgroup", "source", "cgroup",
		"options", "nosuid", "noexec", "nodev", "relatime", "ro");
}

static json_t *default_process(void)
{
	return json_pack(
		"{s:b, s:{s:i,s:i}, s:[s], s:[ss], s:s,"
		" s:{s:[sss],s:[sss],s:[sss],s:[sss]},"
		" s:[{s:s,s:i,s:i}], s:b}",
		"terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh",
		"env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
		"cwd", "/",
		"capabilities", "bounding", DEFAULT_CAPS, "effective", DEFAULT_CAPS,
		"permitted", DEFAULT_CAPS, "ambient", DEFAULT_CAPS,
		"rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
		"noNewPrivileges", 1);
}

static json_t *default_linux(void)
{
	return json_pack(
		"{s:{s:[{s:b,s:s}]},"
		" s:[{s:s},{s:s},{s:s},{s:s},{s:s},{s:s}],"
		" s:[ssssssssss], s:[sssss]}",
		"resources", "devices", "allow", 0, "access", "rwm",
		"namespaces", "type", "pid", "type", "network", "type", "ipc", "type", "uts",
		"type", "mount", "type", "cgroup",
		"maskedPaths", "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/sys/firmware", "/proc/scsi",
		"readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");
}

json_t *oci_sb_default(void)
{
	return json_pack("{s:s, s:o, s:{s:s,s:b}, s:s, s:o, s:o}",
			 "ociVersion", OCI_SPEC_VERSION, "process", default_process(),
			 "root", "path", "rootfs", "readonly", 1, "hostname", "capsule",
			 "mounts", default_mounts(), "linux", default_linux());
}

/* obj[key] as an object/array, created when missing or of another type. */
static json_t *child(json_t *obj, const char *key, bool array)
{
	json_t *v = json_object_get(obj, key);
	if (array ? json_is_array(v) : json_is_object(v))
		return v;
	v = array ? json_array() : json_object();
	json_object_set_new(obj, key, v);
	return v;
}

static json_t *process(json_t *spec) { return child(spec, "process", false); }
static json_t *linux_(json_t *spec) { return child(spec, "linux", false); }
static json_t *resources(json_t *spec) { return child(linux_(spec), "resources", false); }

static json_t *strarr(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int need_abs(const char *what, const char *path, cap_err *err)
{
	if (!path || path[0] != '/')
		return cap_errf(err, 0, "spec: %s '%s' must be an absolute path", what, path ? path : "");
	return 0;
}

/* Index of the array element whose member key equals val, or -1. */
static ssize_t find_by(json_t *arr, const char *key, const char *val)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (json_is_string(json_object_get(v, key)) &&
		    !strcmp(json_string_value(json_object_get(v, key)), val))
			return (ssize_t)i;
	return -1;
}

/* Put obj in arr in place of the element whose key matches, else at the end. */
static void put_by(json_t *arr, const char *key, const char *val, json_t *obj)
{
	ssize_t i = find_by(arr, key, val);
	if (i >= 0)
		json_array_set_new(arr, (size_t)i, obj);
	else
		json_array_append_new(arr, obj);
}

int oci_sb_set_args(json_t *spec, const char *const *args, size_t n, cap_err *err)
{
	if (!n || !args[0] || !*args[0])
		return cap_errf(err, 0, "spec: process.args must name the program to run");
	json_object_set_new(process(spec), "args", strarr(args, n));
	return 0;
}

/* Index of the env entry "key=..." (key of length klen), or -1. */
static ssize_t env_index(json_t *env, const char *key, size_t klen)
{
	size_t i;
	json_t *v;
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, key, klen) && s[klen] == '=')
			return (ssize_t)i;
	}
	return -1;
}

int oci_sb_set_env(json_t *spec, const char *kv, cap_err *err)
{
	const char *eq = kv ? strchr(kv, '=') : NULL;
	if (!eq || eq == kv)
		return cap_errf(err, 0, "spec: process.env entry '%s' is not KEY=VALUE", kv ? kv : "");
	json_t *env = child(process(spec), "env", true);
	ssize_t i = env_index(env, kv, (size_t)(eq - kv));
	if (i >= 0)
		json_array_set_new(env, (size_t)i, json_string(kv));
	else
		json_array_append_new(env, json_string(kv));
	return 0;
}

int oci_sb_unset_env(json_t *spec, const char *key, cap_err *err)
{
	if (!key || !*key || strchr(key, '='))
		return cap_errf(err, 0, "spec: '%s' is not an environment variable name", key ? key : "");
	json_t *env = child(process(spec), "env", true);
	ssize_t i;
	while ((i = env_index(env, key, strlen(key))) >= 0)
		json_array_remove(env, (size_t)i);
	return 0;
}

int oci_sb_set_cwd(json_t *spec, const char *cwd, cap_err *err)
{
	int r = need_abs("process.cwd", cwd, err);
	if (r == 0)
		json_object_set_new(process(spec), "cwd", json_string(cwd));
	return r;
}

int oci_sb_set_user(json_t *spec, uid_t uid, gid_t gid, const gid_t *additional, size_t n_additional,
		    cap_err *err)
{
	(void)err;
	json_t *u = json_pack("{s:I,s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid);
	if (n_additional) {
		json_t *a = json_array();
		for (size_t i = 0; i < n_additional; i++)
			json_array_append_new(a, json_integer((json_int_t)additional[i]));
		json_object_set_new(u, "additionalGids", a);
	}
	json_object_set_new(process(spec), "user", u);
	return 0;
}

int oci_sb_set_terminal(json_t *spec, bool terminal, cap_err *err)
{
	(void)err;
	json_object_set_new(process(spec), "terminal", json_boolean(terminal));
	return 0;
}

int oci_sb_set_caps(json_t *spec, unsigned sets, const char *const *caps, size_t n, cap_err *err)
{
	static const char *const names[] = { "bounding", "effective", "permitted", "inheritable", "ambient" };
	for (size_t i = 0; i < n; i++)
		if (!caps[i] || oci_cap_number(caps[i]) < 0)
			return cap_errf(err, 0, "spec: unknown capability '%s'", caps[i] ? caps[i] : "");
	json_t *c = child(process(spec), "capabilities", false);
	for (int s = 0; s < 5; s++)
		if (sets & (1u << s))
			json_object_set_new(c, names[s], strarr(caps, n));
	return 0;
}

int oci_sb_set_rlimit(json_t *spec, const char *type, uint64_t soft, uint64_t hard, cap_err *err)
{
	if (!type || oci_rlimit_number(type) < 0)
		return cap_errf(err, 0, "spec: unknown rlimit '%s'", type ? type : "");
	if (soft > hard)
		return cap_errf(err, 0, "spec: %s: soft limit above hard limit", type);
	if (soft > INT64_MAX || hard > INT64_MAX)
		return cap_errf(err, 0, "spec: %s: limit out of range", type);
	put_by(child(process(spec), "rlimits", true), "type", type,
	       json_pack("{s:s,s:I,s:I}", "type", type, "hard", (json_int_t)hard, "soft", (json_int_t)soft));
	return 0;
}

int oci_sb_set_root(json_t *spec, const char *path, bool readonly, cap_err *err)
{
	if (!path || !*path)
		return cap_errf(err, 0, "spec: root.path must not be empty");
	json_object_set_new(spec, "root", json_pack("{s:s,s:b}", "path", path, "readonly", readonly));
	return 0;
}

int oci_sb_set_hostname(json_t *spec, const char *hostname, cap_err *err)
{
	if (!hostname || strlen(hostname) > 64)
		return cap_errf(err, 0, "spec: hostname '%s' is not a host name", hostname ? hostname : "");
	json_object_set_new(spec, "hostname", json_string(hostname));
	return 0;
}

int oci_sb_add_mount(json_t *spec, const char *dest, const char *type, const char *source,
		     const char *const *options, size_t n_options, cap_err *err)
{
	int r = need_abs("mount destination", dest, err);
	if (r < 0)
		return r;
	json_t *m = json_pack("{s:s}", "destination", dest);
	if (type)
		json_object_set_new(m, "type", json_string(type));
	if (source)
		json_object_set_new(m, "source", json_string(source));
	if (n_options)
		json_object_set_new(m, "options", strarr(options, n_options));
	put_by(child(spec, "mounts", true), "destination", dest, m);
	return 0;
}

int oci_sb_remove_mount(json_t *spec, const char *dest, cap_err *err)
{
	int r = need_abs("mount destination", dest, err);
	if (r < 0)
		return r;
	json_t *mounts = child(spec, "mounts", true);
	ssize_t i;
	while ((i = find_by(mounts, "destination", dest)) >= 0)
		json_array_remove(mounts, (size_t)i);
	return 0;
}

static int check_ns(const char *type, cap_err *err)
{
	if (!type || oci_ns_flag(type) < 0)
		return cap_errf(err, 0, "spec: unknown namespace type '%s'", type ? type : "");
	return 0;
}

int oci_sb_add_namespace(json_t *spec, const char *type, const char *path, cap_err *err)
{
	int r;
	if ((r = check_ns(type, err)) < 0 || (path && (r = need_abs("namespace path", path, err)) < 0))
		return r;
	json_t *ns = json_pack("{s:s}", "type", type);
	if (path)
		json_object_set_new(ns, "path", json_string(path));
	put_by(child(linux_(spec), "namespaces", true), "type", type, ns);
	return 0;
}

int oci_sb_remove_namespace(json_t *spec, const char *type, cap_err *err)
{
	int r = check_ns(type, err);
	if (r < 0)
		return r;
	json_t *a = child(linux_(spec), "namespaces", true);
	ssize_t i;
	while ((i = find_by(a, "type", type)) >= 0)
		json_array_remove(a, (size_t)i);
	return 0;
}

int oci_sb_set_memory_limit(json_t *spec, int64_t bytes, cap_err *err)
{
	if (bytes < -1 || bytes == 0)
		return cap_errf(err, 0, "spec: memory limit %lld: must be positive or -1", (long long)bytes);
	json_object_set_new(child(resources(spec), "memory", false), "limit", json_integer(bytes));
	return 0;
}

int oci_sb_set_cpu(json_t *spec, uint64_t shares, int64_t quota, uint64_t period, cap_err *err)
{
	if (shares > INT64_MAX || (period && (period < 1000 || period > 1000000)))
		return cap_errf(err, 0, "spec: cpu period %llu: must be 1000..1000000 microseconds",
				(unsigned long long)period);
	if (quota < -1)
		return cap_errf(err, 0, "spec: cpu quota %lld: must be positive or -1", (long long)quota);
	json_t *cpu = child(resources(spec), "cpu", false);
	if (shares)
		json_object_set_new(cpu, "shares", json_integer((json_int_t)shares));
	if (quota)
		json_object_set_new(cpu, "quota", json_integer(quota));
	if (period)
		json_object_set_new(cpu, "period", json_integer((json_int_t)period));
	return 0;
}

int oci_sb_set_pids_limit(json_t *spec, int64_t limit, cap_err *err)
{
	if (limit < -1 || limit == 0)
		return cap_errf(err, 0, "spec: pids limit %lld: must be positive or -1", (long long)limit);
	json_object_set_new(child(resources(spec), "pids", false), "limit", json_integer(limit));
	return 0;
}

int oci_sb_set_annotation(json_t *spec, const char *key, const char *value, cap_err *err)
{
	if (!key || !*key || !value)
		return cap_errf(err, 0, "spec: an annotation needs a key and a value");
	json_object_set_new(child(spec, "annotations", false), key, json_string(value));
	return 0;
}

int oci_sb_make_rootless(json_t *spec, uid_t host_uid, gid_t host_gid, cap_err *err)
{
	int r;
	if ((r = oci_sb_remove_namespace(spec, "network", err)) < 0 ||
	    (r = oci_sb_remove_namespace(spec, "user", err)) < 0 ||
	    (r = oci_sb_add_namespace(spec, "user", NULL, err)) < 0)
		return r;
	json_t *l = linux_(spec);
	json_object_set_new(l, "uidMappings", json_pack("[{s:I,s:i,s:i}]", "hostID", (json_int_t)host_uid,
							"containerID", 0, "size", 1));
	json_object_set_new(l, "gidMappings", json_pack("[{s:I,s:i,s:i}]", "hostID", (json_int_t)host_gid,
							"containerID", 0, "size", 1));
	size_t i;
	json_t *m;
	json_array_foreach(child(spec, "mounts", true), i, m) {
		const char *dest = json_string_value(json_object_get(m, "destination"));
		if (dest && !strcmp(dest, "/sys")) {
			/* sysfs cannot be mounted without a network namespace of our own. */
			json_array_set_new(json_object_get(spec, "mounts"), i,
					   json_pack("{s:s,s:s,s:s,s:[sssss]}", "destination", "/sys", "type", "none",
						     "source", "/sys", "options", "rbind", "nosuid", "noexec",
						     "nodev", "ro"));
			continue;
		}
		/* The ids a uid=/gid= option names do not exist in a one-id user namespace. */
		json_t *opts = json_object_get(m, "options"), *o;
		size_t k = 0;
		while (json_is_array(opts) && k < json_array_size(opts)) {
			o = json_array_get(opts, k);
			const char *s = json_string_value(o);
			if (s && (!strncmp(s, "uid=", 4) || !strncmp(s, "gid=", 4)))
				json_array_remove(opts, k);
			else
				k++;
		}
	}
	json_object_del(l, "resources");
	return 0;
}
