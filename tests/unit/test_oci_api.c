/* The runtime library driven from C the way the engine will: a bundle whose config comes
 * from the spec builder, then create, state, start, wait (with the exit code), exec, kill
 * and delete through oci.h, without argv or the CLI. Needs root and a static busybox. */
#include "unit.h"
#include "../../src/oci/oci.h"
#include "../../src/oci/spec_builder.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], root[96], bundle[96];

/* bundle/rootfs with busybox and its applet links; config.json from the builder. */
static int make_bundle(const char *const *args, size_t n)
{
	char cmd[2048], cfg[128];
	cap_err err = { 0 };
	snprintf(cmd, sizeof(cmd),
		 "rm -rf %s/rootfs && mkdir -p %s/rootfs/bin %s/rootfs/proc %s/rootfs/dev %s/rootfs/sys %s/rootfs/tmp"
		 " && cp /bin/busybox %s/rootfs/bin/ && for a in sh true sleep cat echo; do"
		 " ln -s busybox %s/rootfs/bin/$a; done",
		 bundle, bundle, bundle, bundle, bundle, bundle, bundle, bundle);
	if (system(cmd) != 0)
		return -1;
	json_t *s = oci_sb_default();
	char cg[64];
	snprintf(cg, sizeof(cg), "/capsule-unit-api-%d", getpid());
	json_object_set_new(json_object_get(s, "linux"), "cgroupsPath", json_string(cg));
	int r = oci_sb_set_args(s, args, n, &err) | oci_sb_set_terminal(s, false, &err) |
		oci_sb_set_env(s, "PATH=/bin", &err) | oci_sb_set_hostname(s, "api", &err);
	snprintf(cfg, sizeof(cfg), "%s/config.json", bundle);
	if (r == 0)
		r = json_dump_file(s, cfg, 0);
	json_decref(s);
	return r;
}

static void life_cycle(void)
{
	struct oci_runtime rt = { .root = root };
	const char *args[] = { "sh", "-c", "exit 7" };
	struct oci_create_args a = { .id = "api1", .bundle = bundle };
	struct oci_container_state st;
	cap_err err = { 0 };
	pid_t pid = 0;
	int code = 0;

	CHECK_EQ(make_bundle(args, 3), 0);
	CHECK_EQ(oci_create(&rt, &a, &pid, &err), 0);
	if (err.set)
		printf("# create: %s\n", err.msg);
	CHECK(pid > 0);
	CHECK_EQ(oci_state_get(&rt, "api1", &st, &err), 0);
	CHECK_EQ(st.status, ST_CREATED);
	CHECK_EQ(st.pid, pid);
	CHECK(st.id && !strcmp(st.id, "api1"));
	CHECK(st.bundle && strstr(st.bundle, "bundle"));
	CHECK(json_is_string(json_object_get(st.json, "created")));
	oci_container_state_free(&st);

	CHECK_EQ(oci_start(&rt, "api1", &err), 0);
	/* We called create: the init is our child, so wait gets its exit code. */
	CHECK_EQ(oci_wait(&rt, "api1", &code, &err), 0);
	CHECK_EQ(code, 7);
	CHECK_EQ(oci_state_get(&rt, "api1", &st, &err), 0);
	CHECK_EQ(st.status, ST_STOPPED);
	CHECK_EQ(st.pid, 0);
	oci_container_state_free(&st);
	CHECK_EQ(oci_delete(&rt, "api1", false, &err), 0);
	CHECK_EQ(oci_state_get(&rt, "api1", &st, &err), -ENOENT);
	CHECK(strstr(err.msg, "does not exist") != NULL);
}

static void exec_kill_list(void)
{
	struct oci_runtime rt = { .root = root };
	const char *args[] = { "sleep", "30" };
	struct oci_create_args a = { .id = "api2", .bundle = bundle };
	cap_err err = { 0 };
	int code = 0;

	CHECK_EQ(make_bundle(args, 2), 0);
	CHECK_EQ(oci_create(&rt, &a, NULL, &err), 0);
	CHECK_EQ(oci_start(&rt, "api2", &err), 0);
	const char *cmd[] = { "sh", "-c", "exit 3" };
	struct oci_exec_args e = { .id = "api2", .args = cmd, .n_args = 3 };
	CHECK_EQ(oci_exec(&rt, &e, NULL, &err), 3);   /* not detached: its exit code */
	/* a process object given as JSON, detached: the pid comes back */
	json_t *proc = json_pack("{s:[ss],s:s,s:[s]}", "args", "sleep", "5", "cwd", "/", "env", "PATH=/bin");
	struct oci_exec_args d = { .id = "api2", .process = proc, .detach = true };
	pid_t xp = 0;
	CHECK_EQ(oci_exec(&rt, &d, &xp, &err), 0);
	CHECK(xp > 0);
	json_decref(proc);
	pid_t *pids = NULL;
	size_t n = 0;
	CHECK_EQ(oci_ps(&rt, "api2", &pids, &n, &err), 0);
	CHECK_EQ(n, 2);
	free(pids);
	struct oci_container_state *v = NULL;
	CHECK_EQ(oci_list(&rt, &v, &n, &err), 0);
	CHECK_EQ(n, 1);
	CHECK(n == 1 && v[0].status == ST_RUNNING && !strcmp(v[0].id, "api2"));
	oci_list_free(v, n);
	json_t *data = NULL;
	CHECK_EQ(oci_stats(&rt, "api2", &data, &err), 0);
	CHECK(json_integer_value(json_object_get(json_object_get(data, "pids"), "current")) >= 1);
	json_decref(data);
	CHECK_EQ(oci_kill(&rt, "api2", SIGKILL, false, &err), 0);
	/* The exec'd process is our child: it must be reaped before the init can finish dying
	 * (the kernel waits for every process of the pid namespace). */
	if (xp > 0)
		waitpid(xp, NULL, 0);
	CHECK_EQ(oci_wait(&rt, "api2", &code, &err), 0);
	CHECK_EQ(code, 128 + SIGKILL);
	CHECK_EQ(oci_delete(&rt, "api2", false, &err), 0);
	if (err.set)
		printf("# %s\n", err.msg);
}

int main(void)
{
	struct stat sb;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		SKIP(life_cycle, "needs root");
		SKIP(exec_kill_list, "needs root");
		return 0;
	}
	if (stat("/bin/busybox", &sb) < 0 || system("ldd /bin/busybox >/dev/null 2>&1") == 0) {
		SKIP(life_cycle, "no static /bin/busybox (busybox-static)");
		SKIP(exec_kill_list, "no static /bin/busybox (busybox-static)");
		return 0;
	}
	snprintf(dir, sizeof(dir), "/tmp/capsule-unit-api-%d", getpid());
	snprintf(root, sizeof(root), "%s/state", dir);
	snprintf(bundle, sizeof(bundle), "%s/bundle", dir);
	if (mkdir(dir, 0700) < 0 || mkdir(bundle, 0700) < 0)
		return 1;
	RUN(life_cycle);
	RUN(exec_kill_list);
	cap_err err = { 0 };
	struct oci_runtime rt = { .root = root };
	oci_delete(&rt, "api1", true, &err);
	oci_delete(&rt, "api2", true, &err);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	UNIT_EXIT();
}
