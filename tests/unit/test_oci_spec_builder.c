/* The spec builder: the default config equals the one `capsule oci spec` wrote before it
 * (the old string literal, kept here as the reference, compared as JSON), every edit gives
 * the JSON asked for, and what it builds parses as a valid config. */
#include "unit.h"
#include "../../src/oci/spec.h"
#include "../../src/oci/spec_builder.h"
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>

/* What src/oci/ops.c wrote for `spec` until the builder replaced it. */
static const char old_default_spec[] =
"{\n"
"\t\"ociVersion\": \"1.0.2\",\n"
"\t\"process\": {\n"
"\t\t\"terminal\": true,\n"
"\t\t\"user\": { \"uid\": 0, \"gid\": 0 },\n"
"\t\t\"args\": [ \"sh\" ],\n"
"\t\t\"env\": [\n"
"\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
"\t\t\t\"TERM=xterm\"\n"
"\t\t],\n"
"\t\t\"cwd\": \"/\",\n"
"\t\t\"capabilities\": {\n"
"\t\t\t\"bounding\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
"\t\t\t\"effective\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
"\t\t\t\"permitted\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
"\t\t\t\"ambient\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ]\n"
"\t\t},\n"
"\t\t\"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } ],\n"
"\t\t\"noNewPrivileges\": true\n"
"\t},\n"
"\t\"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
"\t\"hostname\": \"capsule\",\n"
"\t\"mounts\": [\n"
"\t\t{ \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
"\t\t{ \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
"\t\t  \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n"
"\t\t{ \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
"\t\t  \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\" ] },\n"
"\t\t{ \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
"\t\t  \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },\n"
"\t\t{ \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
"\t\t  \"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },\n"
"\t\t{ \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
"\t\t  \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] },\n"
"\t\t{ \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
"\t\t  \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\" ] }\n"
"\t],\n"
"\t\"linux\": {\n"
"\t\t\"resources\": { \"devices\": [ { \"allow\": false, \"access\": \"rwm\" } ] },\n"
"\t\t\"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": \"ipc\" },\n"
"\t\t\t{ \"type\": \"uts\" }, { \"type\": \"mount\" }, { \"type\": \"cgroup\" } ],\n"
"\t\t\"maskedPaths\": [ \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\",\n"
"\t\t\t\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\", \"/proc/sched_debug\",\n"
"\t\t\t\"/sys/firmware\", \"/proc/scsi\" ],\n"
"\t\t\"readonlyPaths\": [ \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\" ]\n"
"\t}\n"
"}\n";

/* The JSON text j must equal, compared by value (key order and spacing do not matter). */
static int json_is(const json_t *j, const char *text)
{
	json_error_t je;
	json_t *want = json_loads(text, JSON_DECODE_ANY, &je);
	if (!want) {
		printf("# bad expected JSON: %s\n", je.text);
		return 0;
	}
	int eq = json_equal((json_t *)j, want);
	if (!eq) {
		char *got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		printf("# got %s\n", got);
		free(got);
	}
	json_decref(want);
	return eq;
}

static json_t *at(json_t *j, const char *a, const char *b, const char *c)
{
	j = json_object_get(j, a);
	if (b)
		j = json_object_get(j, b);
	if (c)
		j = json_object_get(j, c);
	return j;
}

/* The builder's config must also be one the runtime accepts. */
static int parses(json_t *spec)
{
	struct oci_spec s;
	cap_err err = { 0 };
	int r = oci_spec_parse(json_deep_copy(spec), &s, &err);
	if (r < 0)
		printf("# parse: %s\n", err.msg);
	oci_spec_free(&s);
	return r == 0;
}

static void default_equals_old_literal(void)
{
	json_error_t je;
	json_t *old = json_loads(old_default_spec, 0, &je), *now = oci_sb_default();
	CHECK(old != NULL);
	CHECK(now != NULL);
	CHECK(json_equal(old, now));
	CHECK(parses(now));
	json_decref(old);
	json_decref(now);
}

static void args_env_cwd(void)
{
	cap_err err = { 0 };
	json_t *s = oci_sb_default();
	const char *args[] = { "/bin/httpd", "-f", "-p", "80" };
	CHECK_EQ(oci_sb_set_args(s, args, 4, &err), 0);
	CHECK(json_is(at(s, "process", "args", NULL), "[\"/bin/httpd\",\"-f\",\"-p\",\"80\"]"));
	CHECK_EQ(oci_sb_set_env(s, "TERM=dumb", &err), 0);          /* replaces by key */
	CHECK_EQ(oci_sb_set_env(s, "LANG=C.UTF-8", &err), 0);       /* appends */
	CHECK_EQ(oci_sb_set_env(s, "TERMINFO=/x", &err), 0);        /* a longer key is another key */
	CHECK(json_is(at(s, "process", "env", NULL),
		      "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=dumb\","
		      "\"LANG=C.UTF-8\",\"TERMINFO=/x\"]"));
	CHECK_EQ(oci_sb_unset_env(s, "TERM", &err), 0);
	CHECK(json_is(at(s, "process", "env", NULL),
		      "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"LANG=C.UTF-8\","
		      "\"TERMINFO=/x\"]"));
	CHECK_EQ(oci_sb_set_cwd(s, "/srv", &err), 0);
	CHECK(json_is(at(s, "process", "cwd", NULL), "\"/srv\""));
	CHECK(parses(s));
	/* invalid input is refused and leaves the config as it was */
	CHECK_EQ(oci_sb_set_env(s, "NOEQUALS", &err), -EINVAL);
	CHECK(strstr(err.msg, "NOEQUALS") != NULL);
	cap_err_clear(&err);
	CHECK_EQ(oci_sb_set_env(s, "=v", &err), -EINVAL);
	cap_err_clear(&err);
	CHECK_EQ(oci_sb_set_cwd(s, "relative", &err), -EINVAL);
	cap_err_clear(&err);
	CHECK_EQ(oci_sb_set_args(s, args, 0, &err), -EINVAL);
	CHECK(json_is(at(s, "process", "cwd", NULL), "\"/srv\""));
	json_decref(s);
}

static void user_terminal_hostname_root(void)
{
	cap_err err = { 0 };
	json_t *s = oci_sb_default();
	gid_t extra[] = { 10, 20 };
	CHECK_EQ(oci_sb_set_user(s, 1000, 1001, extra, 2, &err), 0);
	CHECK(json_is(at(s, "process", "user", NULL), "{\"uid\":1000,\"gid\":1001,\"additionalGids\":[10,20]}"));
	CHECK_EQ(oci_sb_set_user(s, 5, 6, NULL, 0, &err), 0);
	CHECK(json_is(at(s, "process", "user", NULL), "{\"uid\":5,\"gid\":6}"));
	CHECK_EQ(oci_sb_set_terminal(s, false, &err), 0);
	CHECK(json_is(at(s, "process", "terminal", NULL), "false"));
	CHECK_EQ(oci_sb_set_hostname(s, "web-1", &err), 0);
	CHECK(json_is(at(s, "hostname", NULL, NULL), "\"web-1\""));
	CHECK_EQ(oci_sb_set_root(s, "/var/lib/x/rootfs", false, &err), 0);
	CHECK(json_is(at(s, "root", NULL, NULL), "{\"path\":\"/var/lib/x/rootfs\",\"readonly\":false}"));
	CHECK(parses(s));
	CHECK_EQ(oci_sb_set_root(s, "", true, &err), -EINVAL);
	json_decref(s);
}

static void mounts_add_replace_remove(void)
{
	cap_err err = { 0 };
	json_t *s = oci_sb_default();
	const char *bind[] = { "rbind", "ro" };
	CHECK_EQ(oci_sb_add_mount(s, "/data", "bind", "/srv/data", bind, 2, &err), 0);
	json_t *m = json_object_get(s, "mounts");
	CHECK_EQ(json_array_size(m), 8);
	CHECK(json_is(json_array_get(m, 7),
		      "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/data\",\"options\":[\"rbind\",\"ro\"]}"));
	/* same destination: replaced in its place */
	const char *opts[] = { "nosuid", "size=1m" };
	CHECK_EQ(oci_sb_add_mount(s, "/dev/shm", "tmpfs", "shm", opts, 2, &err), 0);
	CHECK_EQ(json_array_size(m), 8);
	CHECK(json_is(json_array_get(m, 3),
		      "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"size=1m\"]}"));
	CHECK_EQ(oci_sb_remove_mount(s, "/dev/mqueue", &err), 0);
	CHECK_EQ(json_array_size(m), 7);
	CHECK(json_is(json_object_get(json_array_get(m, 4), "destination"), "\"/sys\""));
	CHECK_EQ(oci_sb_remove_mount(s, "/not/there", &err), 0);
	CHECK_EQ(json_array_size(m), 7);
	CHECK(parses(s));
	CHECK_EQ(oci_sb_add_mount(s, "data", "bind", "/x", NULL, 0, &err), -EINVAL);
	json_decref(s);
}

static void namespaces_add_path_remove(void)
{
	cap_err err = { 0 };
	json_t *s = oci_sb_default();
	CHECK_EQ(oci_sb_add_namespace(s, "network", "/var/run/netns/web", &err), 0);
	CHECK_EQ(oci_sb_remove_namespace(s, "cgroup", &err), 0);
	CHECK_EQ(oci_sb_add_namespace(s, "time", NULL, &err), 0);
	CHECK(json_is(at(s, "linux", "namespaces", NULL),
		      "[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/var/run/netns/web\"},{\"type\":\"ipc\"},"
		      "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"time\"}]"));
	CHECK(parses(s));
	struct oci_spec p;
	CHECK_EQ(oci_spec_parse(json_deep_copy(s), &p, &err), 0);
	CHECK((p.clone_flags & CLONE_NEWNET) == 0);   /* joined by path, not created */
	CHECK((p.clone_flags & CLONE_NEWCGROUP) == 0);
	CHECK((p.clone_flags & CLONE_NEWPID) != 0);
	oci_spec_free(&p);
	CHECK_EQ(oci_sb_add_namespace(s, "bogus", NULL, &err), -EINVAL);
	CHECK(strstr(err.msg, "bogus") != NULL);
	cap_err_clear(&err);
	CHECK_EQ(oci_sb_add_namespace(s, "net", "relative/path", &err), -EINVAL);
	json_decref(s);
}

static void capabilities_and_rlimits(void)
{
	cap_err err = { 0 };
	json_t *s = oci_sb_default();
	const char *caps[] = { "CAP_CHOWN", "CAP_NET_RAW" };
	CHECK_EQ(oci_sb_set_caps(s, OCI_SB_CAP_BOUNDING | OCI_SB_CAP_PERMITTED, caps, 2, &err), 0);
	CHECK(json_is(at(s, "process", "capabilities", NULL),
		      "{\"bounding\":[\"CAP_CHOWN\",\"CAP_NET_RAW\"],"
		      "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
		      "\"permitted\":[\"CAP_CHOWN\",\"CAP_NET_RAW\"],"
		      "\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]}"));
	CHECK_EQ(oci_sb_set_caps(s, OCI_SB_CAP_DEFAULT_SETS | OCI_SB_CAP_INHERITABLE, caps, 1, &err), 0);
	CHECK(json_is(at(s, "process", "capabilities", NULL),
		      "{\"bounding\":[\"CAP_CHOWN\"],\"effective\":[\"CAP_CHOWN\"],\"permitted\":[\"CAP_CHOWN\"],"
		      "\"inheritable\":[\"CAP_CHOWN\"],\"ambient\":[\"CAP_CHOWN\"]}"));
	const char *bad[] = { "CAP_FLY" };
	CHECK_EQ(oci_sb_set_caps(s, OCI_SB_CAP_BOUNDING, bad, 1, &err), -EINVAL);
	CHECK(strstr(err.msg, "CAP_FLY") != NULL);
	cap_err_clear(&err);
	CHECK_EQ(oci_sb_set_rlimit(s, "RLIMIT_NOFILE", 4096, 8192, &err), 0);   /* replaces */
	CHECK_EQ(oci_sb_set_rlimit(s, "RLIMIT_NPROC", 100, 100, &err), 0);      /* appends */
	CHECK(json_is(at(s, "process", "rlimits", NULL),
		      "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":4096,\"hard\":8192},"
		      "{\"type\":\"RLIMIT_NPROC\",\"soft\":100,\"hard\":100}]"));
	CHECK(parses(s));
	struct oci_spec p;
	CHECK_EQ(oci_spec_parse(json_deep_copy(s), &p, &err), 0);
	CHECK_EQ(p.proc.caps[CAPSET_BOUNDING], 1ULL << 0);
	CHECK_EQ(p.proc.n_rlimits, 2);
	CHECK_EQ(p.proc.rlimits[0].resource, RLIMIT_NOFILE);
	CHECK_EQ(p.proc.rlimits[0].hard, 8192);
	oci_spec_free(&p);
	CHECK_EQ(oci_sb_set_rlimit(s, "RLIMIT_BOGUS", 1, 1, &err), -EINVAL);
	cap_err_clear(&err);
	CHECK_EQ(oci_sb_set_rlimit(s, "RLIMIT_CORE", 2, 1, &err), -EINVAL);
	json_decref(s);
}

static void resources(void)
{
	cap_err err = { 0 };
	json_t *s = oci_sb_default();
	CHECK_EQ(oci_sb_set_memory_limit(s, 64 << 20, &err), 0);
	CHECK_EQ(oci_sb_set_cpu(s, 512, 50000, 100000, &err), 0);
	CHECK_EQ(oci_sb_set_pids_limit(s, 64, &err), 0);
	CHECK(json_is(at(s, "linux", "resources", NULL),
		      "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],\"memory\":{\"limit\":67108864},"
		      "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000},\"pids\":{\"limit\":64}}"));
	/* 0 leaves a cpu field as it is */
	CHECK_EQ(oci_sb_set_cpu(s, 0, -1, 0, &err), 0);
	CHECK(json_is(at(s, "linux", "resources", "cpu"), "{\"shares\":512,\"quota\":-1,\"period\":100000}"));
	CHECK(parses(s));
	struct oci_spec p;
	CHECK_EQ(oci_spec_parse(json_deep_copy(s), &p, &err), 0);
	CHECK_EQ(p.res.mem_limit, 64 << 20);
	CHECK_EQ(p.res.cpu_shares, 512);
	CHECK_EQ(p.res.pids_limit, 64);
	oci_spec_free(&p);
	CHECK_EQ(oci_sb_set_cpu(s, 0, 0, 10, &err), -EINVAL);
	cap_err_clear(&err);
	CHECK_EQ(oci_sb_set_memory_limit(s, 0, &err), -EINVAL);
	cap_err_clear(&err);
	CHECK_EQ(oci_sb_set_pids_limit(s, -2, &err), -EINVAL);
	json_decref(s);
}

static void annotations(void)
{
	cap_err err = { 0 };
	json_t *s = oci_sb_default();
	CHECK_EQ(oci_sb_set_annotation(s, "org.opencontainers.image.ref.name", "busybox", &err), 0);
	CHECK_EQ(oci_sb_set_annotation(s, "io.capsule.x", "1", &err), 0);
	CHECK_EQ(oci_sb_set_annotation(s, "io.capsule.x", "2", &err), 0);
	CHECK(json_is(at(s, "annotations", NULL, NULL),
		      "{\"org.opencontainers.image.ref.name\":\"busybox\",\"io.capsule.x\":\"2\"}"));
	CHECK(parses(s));
	CHECK_EQ(oci_sb_set_annotation(s, "", "v", &err), -EINVAL);
	json_decref(s);
}

static void rootless_variant(void)
{
	cap_err err = { 0 };
	json_t *s = oci_sb_default();
	CHECK_EQ(oci_sb_make_rootless(s, 1000, 1000, &err), 0);
	CHECK(json_is(at(s, "linux", "namespaces", NULL),
		      "[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"},"
		      "{\"type\":\"cgroup\"},{\"type\":\"user\"}]"));
	CHECK(json_is(at(s, "linux", "uidMappings", NULL), "[{\"hostID\":1000,\"containerID\":0,\"size\":1}]"));
	CHECK(json_is(at(s, "linux", "gidMappings", NULL), "[{\"hostID\":1000,\"containerID\":0,\"size\":1}]"));
	CHECK(at(s, "linux", "resources", NULL) == NULL);
	json_t *m = json_object_get(s, "mounts");
	CHECK(json_is(json_array_get(m, 2),
		      "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
		      "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]}"));
	CHECK(json_is(json_array_get(m, 5),
		      "{\"destination\":\"/sys\",\"type\":\"none\",\"source\":\"/sys\","
		      "\"options\":[\"rbind\",\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}"));
	CHECK(parses(s));
	json_decref(s);
}

/* The edits also work on a config that lacks the objects they go into. */
static void edits_on_an_empty_config(void)
{
	cap_err err = { 0 };
	json_t *s = json_object();
	const char *args[] = { "true" };
	CHECK_EQ(oci_sb_set_args(s, args, 1, &err), 0);
	CHECK_EQ(oci_sb_set_env(s, "A=1", &err), 0);
	CHECK_EQ(oci_sb_add_namespace(s, "pid", NULL, &err), 0);
	CHECK_EQ(oci_sb_set_pids_limit(s, 10, &err), 0);
	CHECK_EQ(oci_sb_add_mount(s, "/proc", "proc", "proc", NULL, 0, &err), 0);
	CHECK(json_is(s, "{\"process\":{\"args\":[\"true\"],\"env\":[\"A=1\"]},"
			 "\"linux\":{\"namespaces\":[{\"type\":\"pid\"}],\"resources\":{\"pids\":{\"limit\":10}}},"
			 "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}]}"));
	json_decref(s);
}

int main(void)
{
	RUN(default_equals_old_literal);
	RUN(args_env_cwd);
	RUN(user_terminal_hostname_root);
	RUN(mounts_add_replace_remove);
	RUN(namespaces_add_path_remove);
	RUN(capabilities_and_rlimits);
	RUN(resources);
	RUN(annotations);
	RUN(rootless_variant);
	RUN(edits_on_an_empty_config);
	UNIT_EXIT();
}
