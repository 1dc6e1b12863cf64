/* config.json parsing: what is accepted, and that each rejection names its JSON path. */
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "unit.h"
#include "../../src/oci/cgroup.h"
#include "../../src/oci/spec.h"

static const char *base =
	"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"hostname\":\"h\","
	"\"process\":{\"args\":[\"sh\",\"-c\",\"true\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
	"\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,6]},"
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"effective\":[\"CAP_KILL\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":2048}],"
	"\"noNewPrivileges\":true,\"oomScoreAdj\":100},"
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/tmp\",\"options\":[\"rbind\",\"ro\",\"rprivate\"]},"
	"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\",\"size=65536k\"]}],"
	"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},"
	"{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}],"
	"\"resources\":{\"memory\":{\"limit\":1048576},\"pids\":{\"limit\":10},"
	"\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000},"
	"\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
	"\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],"
	"\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}},"
	"\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"timeout\":5}]},"
	"\"annotations\":{\"a\":\"b\"}}";

static int parse_str(const char *text, struct oci_spec *s, cap_err *err)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		return -1;
	int r = oci_spec_parse(j, s, err);
	if (r < 0)
		oci_spec_free(s);
	return r;
}

/* Parse base with one JSON member replaced: path "a.b" set to the JSON value v. */
static int parse_with(const char *path, const char *v, cap_err *err)
{
	json_error_t je;
	json_t *j = json_loads(base, 0, &je), *o = j;
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	char *k = strtok_r(buf, ".", &save), *next;
	while ((next = strtok_r(NULL, ".", &save))) {
		o = json_object_get(o, k);
		k = next;
	}
	json_object_set_new(o, k, json_loads(v, JSON_DECODE_ANY, &je));
	struct oci_spec s;
	int r = oci_spec_parse(j, &s, err);
	oci_spec_free(&s);
	return r;
}

static void parses_a_full_config(void)
{
	struct oci_spec s;
	cap_err err = { 0 };
	CHECK_EQ(parse_str(base, &s, &err), 0);
	if (err.set)
		printf("# %s\n", err.msg);
	CHECK_STR(s.root_path, "rootfs");
	CHECK(s.root_readonly);
	CHECK_EQ(s.proc.n_args, 3u);
	CHECK_EQ(s.proc.uid, 1000u);
	CHECK_EQ(s.proc.n_groups, 2u);
	CHECK(s.proc.caps[CAPSET_BOUNDING] == ((1ULL << 5) | (1ULL << 0)));
	CHECK_EQ(s.proc.n_rlimits, 1u);
	CHECK_EQ(s.proc.rlimits[0].resource, RLIMIT_NOFILE);
	CHECK(s.proc.no_new_privs);
	CHECK_EQ(s.proc.oom_score_adj, 100);
	CHECK_EQ(s.n_mounts, 3u);
	CHECK(s.mounts[1].bind);
	CHECK(s.mounts[1].flags & MS_RDONLY);
	CHECK_EQ(s.mounts[1].propagation, (unsigned long)(MS_PRIVATE | MS_REC));
	CHECK_STR(s.mounts[2].data, "mode=755,size=65536k");
	CHECK(s.mounts[2].flags & MS_NOSUID);
	CHECK_EQ(s.clone_flags, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS);
	CHECK_EQ(s.n_ns, 4u);
	CHECK_STR(s.ns[3].path, "/proc/1/ns/net");
	CHECK_EQ(s.res.mem_limit, 1048576);
	CHECK_EQ(s.res.pids_limit, 10);
	CHECK_EQ(s.res.cpu_quota, 50000);
	/* the config's deny-all, then the default allow rules */
	CHECK(s.res.n_devrules > 1);
	CHECK(!s.res.devrules[0].allow);
	CHECK_EQ(s.n_sysctl, 1u);
	CHECK_EQ(s.hooks.n[HOOK_POSTSTOP], 1u);
	CHECK_EQ(s.hooks.h[HOOK_POSTSTOP][0].timeout, 5);
	oci_spec_free(&s);
}

static void errors_name_the_json_path(void)
{
	static const struct { const char *path, *val, *want; } cases[] = {
		{ "linux.namespaces", "[{\"type\":\"pid\"},{\"type\":\"foo\"}]",
		  "linux.namespaces[1].type: unknown namespace type 'foo'" },
		{ "linux.namespaces", "[{\"type\":\"pid\"},{\"type\":\"pid\"}]", "linux.namespaces[1].type" },
		{ "process.rlimits", "[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]",
		  "process.rlimits[0].type: unknown rlimit 'RLIMIT_BOGUS'" },
		{ "process.rlimits", "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":9,\"hard\":1}]", "process.rlimits[0]" },
		{ "process.capabilities", "{\"bounding\":[\"NOT_A_CAP\"]}",
		  "process.capabilities.bounding[0]: unknown capability" },
		{ "process.args", "[]", "process.args" },
		{ "process.args", "\"sh\"", "process.args: must be an array" },
		{ "process.cwd", "\"relative\"", "process.cwd: must be an absolute path" },
		{ "process.oomScoreAdj", "5000", "process.oomScoreAdj" },
		{ "root", "{}", "root.path: missing" },
		{ "ociVersion", "\"2.0.0\"", "ociVersion: unsupported version" },
		{ "mounts", "[{\"destination\":\"rel\",\"type\":\"tmpfs\"}]", "mounts[0].destination" },
		{ "mounts", "[{\"destination\":\"/x\"}]", "mounts[0].type" },
		{ "linux.resources.memory", "{\"limit\":\"lots\"}", "linux.resources.memory.limit: must be an integer" },
		{ "linux.resources.cpu", "{\"period\":5}", "linux.resources.cpu.period" },
		{ "linux.resources.devices", "[{\"allow\":true,\"type\":\"x\"}]", "linux.resources.devices[0].type" },
		{ "linux.uidMappings", "[{\"containerID\":0,\"hostID\":1000,\"size\":1}]",
		  "mappings need a user namespace" },
		{ "linux.rootfsPropagation", "\"sideways\"", "linux.rootfsPropagation" },
		{ "linux.sysctl", "{\"../etc\":\"1\"}", "linux.sysctl.../etc" },
		{ "hooks", "{\"prestart\":[{\"path\":\"rel\"}]}", "hooks.prestart[0].path" },
		{ "annotations", "{\"a\":1}", "annotations.a: must be a string" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cap_err err = { 0 };
		int r = parse_with(cases[i].path, cases[i].val, &err);
		CHECK(r < 0);
		CHECK(err.set);
		if (!strstr(err.msg, cases[i].want)) {
			printf("# case %zu: got '%s', want '%s'\n", i, err.msg, cases[i].want);
			CHECK(0);
		}
	}
}

static void unknown_properties_are_ignored(void)
{
	cap_err err = { 0 };
	CHECK_EQ(parse_with("process.futureField", "{\"x\":1}", &err), 0);
	CHECK_EQ(parse_with("linux.somethingNew", "[1,2]", &err), 0);
	CHECK(!err.set);
}

static void signal_names(void)
{
	CHECK_EQ(oci_signal_number("KILL"), SIGKILL);
	CHECK_EQ(oci_signal_number("SIGKILL"), SIGKILL);
	CHECK_EQ(oci_signal_number("sigterm"), SIGTERM);
	CHECK_EQ(oci_signal_number("9"), 9);
	CHECK_EQ(oci_signal_number("SIGRTMIN+1"), SIGRTMIN + 1);
	CHECK_EQ(oci_signal_number("RTMAX-1"), SIGRTMAX - 1);
	CHECK_EQ(oci_signal_number("SIGBOGUS"), -1);
	CHECK_EQ(oci_signal_number("0"), -1);
	CHECK_EQ(oci_signal_number("65"), -1);
	CHECK_EQ(oci_signal_number("9x"), -1);
	CHECK_EQ(oci_signal_number(""), -1);
}

static void capability_and_namespace_names(void)
{
	CHECK_EQ(oci_cap_number("CAP_CHOWN"), 0);
	CHECK_EQ(oci_cap_number("CAP_SYS_ADMIN"), 21);
	CHECK_EQ(oci_cap_number("CAP_CHECKPOINT_RESTORE"), 40);
	CHECK_STR(oci_cap_name(13), "CAP_NET_RAW");
	CHECK_EQ(oci_cap_number("CAP_NOPE"), -1);
	CHECK_EQ(oci_ns_flag("network"), CLONE_NEWNET);
	CHECK_EQ(oci_ns_flag("net"), -1);
	CHECK_STR(oci_ns_proc_name(CLONE_NEWNET), "net");
	CHECK_STR(oci_ns_proc_name(CLONE_NEWNS), "mnt");
	CHECK_EQ(oci_rlimit_number("RLIMIT_NPROC"), RLIMIT_NPROC);
}

static void mount_options(void)
{
	unsigned long set = 0, clr = 0, prop = 0;
	bool bind = false;
	CHECK_EQ(oci_mount_option("ro", &set, &clr, &prop, &bind), 1);
	CHECK_EQ(oci_mount_option("nosuid", &set, &clr, &prop, &bind), 1);
	CHECK_EQ(oci_mount_option("rw", &set, &clr, &prop, &bind), 1);
	CHECK(!(set & MS_RDONLY) && (clr & MS_RDONLY) && (set & MS_NOSUID));
	CHECK_EQ(oci_mount_option("rbind", &set, &clr, &prop, &bind), 1);
	CHECK(bind && (set & MS_REC));
	CHECK_EQ(oci_mount_option("rslave", &set, &clr, &prop, &bind), 1);
	CHECK_EQ(prop, (unsigned long)(MS_SLAVE | MS_REC));
	CHECK_EQ(oci_mount_option("size=10m", &set, &clr, &prop, &bind), 0);
}

static void cgroup_paths(void)
{
	struct cg_layout l;
	char out[PATH_MAX], out2[PATH_MAX + 16];
	cap_err err = { 0 };
	memset(&l, 0, sizeof(l));
	l.n = 1;
	strcpy(l.h[0].own, "/user.slice");
	CHECK_EQ(cg_resolve_path(&l, NULL, "abc", false, out, sizeof(out), &err), 0);
	CHECK_STR(out, "/abc");
	CHECK_EQ(cg_resolve_path(&l, "/a/b/", "abc", false, out, sizeof(out), &err), 0);
	CHECK_STR(out, "/a/b");
	CHECK_STR(l.h[0].base, "");
	/* relative: out is below the base, the caller's own cgroup in each hierarchy */
	l.n = 2;
	strcpy(l.h[1].own, "/");
	CHECK_EQ(cg_resolve_path(&l, "rel//x/", "abc", false, out, sizeof(out), &err), 0);
	CHECK_STR(out, "/rel/x");
	CHECK_STR(l.h[0].base, "/user.slice");
	CHECK_STR(l.h[1].base, "");
	cg_dir(&l.h[0], out, out2, sizeof(out2));
	CHECK_STR(out2, "/user.slice/rel/x");
	l.n = 1;
	CHECK_EQ(cg_resolve_path(&l, "machine-libpod.slice:libpod:1234", "abc", true, out, sizeof(out),
				 &err), 0);
	CHECK_STR(out, "/machine.slice/machine-libpod.slice/libpod-1234.scope");
	CHECK_EQ(cg_resolve_path(&l, ":capsule:xyz", "abc", true, out, sizeof(out), &err), 0);
	CHECK_STR(out, "/system.slice/capsule-xyz.scope");
	CHECK(cg_resolve_path(&l, "no-colons", "abc", true, out, sizeof(out), &err) < 0);
	cap_err_clear(&err);
	CHECK(cg_resolve_path(&l, "/a/../../etc", "abc", false, out, sizeof(out), &err) < 0);
	/* never leaves its parent, never a root */
	static const char *const bad[] = { "/a/sub/..", "/x/..", "/", "//", "../x", "a/./b", "/a/." };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cap_err_clear(&err);
		CHECK(cg_resolve_path(&l, bad[i], "abc", false, out, sizeof(out), &err) < 0);
	}
	cap_err_clear(&err);
	CHECK(cg_resolve_path(&l, "a:b/c:d", "abc", true, out, sizeof(out), &err) < 0);
	cap_err_clear(&err);
}

/* update --memory 512m was 512 bytes (the suffix ignored); junk must be refused. */
static void update_sizes(void)
{
	long long v = 0;
	CHECK(oci_parse_bytes("512m", true, &v) == 0 && v == 512LL << 20);
	CHECK(oci_parse_bytes("512M", true, &v) == 0 && v == 512LL << 20);
	CHECK(oci_parse_bytes("1g", true, &v) == 0 && v == 1LL << 30);
	CHECK(oci_parse_bytes("1.5g", true, &v) == 0 && v == 3LL << 29);
	CHECK(oci_parse_bytes("64KiB", true, &v) == 0 && v == 64LL << 10);
	CHECK(oci_parse_bytes("4kb", true, &v) == 0 && v == 4096);
	CHECK(oci_parse_bytes("100", true, &v) == 0 && v == 100);
	CHECK(oci_parse_bytes("100b", true, &v) == 0 && v == 100);
	CHECK(oci_parse_bytes("-1", true, &v) == 0 && v == -1);
	CHECK(oci_parse_bytes("512x", true, &v) < 0);
	CHECK(oci_parse_bytes("m", true, &v) < 0);
	CHECK(oci_parse_bytes("12mm", true, &v) < 0);
	CHECK(oci_parse_bytes("", true, &v) < 0);
	CHECK(oci_parse_bytes("-5", true, &v) < 0);
	CHECK(oci_parse_bytes("99999999p", true, &v) < 0);
	CHECK(oci_parse_bytes("42", false, &v) == 0 && v == 42);
	CHECK(oci_parse_bytes("-1", false, &v) == 0 && v == -1);
	CHECK(oci_parse_bytes("42k", false, &v) < 0);
	CHECK(oci_parse_bytes("abc", false, &v) < 0);
}

int main(void)
{
	RUN(parses_a_full_config);
	RUN(errors_name_the_json_path);
	RUN(unknown_properties_are_ignored);
	RUN(signal_names);
	RUN(capability_and_namespace_names);
	RUN(mount_options);
	RUN(cgroup_paths);
	RUN(update_sizes);
	UNIT_EXIT();
}
