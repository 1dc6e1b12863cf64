/* Commands on an existing container besides its life cycle: exec, list, ps, pause,
 * resume, update; and the container-less ones: features, spec. */
#include "lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/json.h"

/* exec's process: --process FILE, or the container's config.json process with the
 * command-line overrides. */
static int exec_process(const struct oci_exec_args *a, struct oci_spec *spec, json_t **pj_out,
			struct oci_process *p, cap_err *err)
{
	json_t *pj;
	if (a->process_file) {
		json_error_t je;
		pj = json_load_file(a->process_file, 0, &je);
		if (!pj)
			return cap_errf(err, 0, "--process %s: line %d: %s", a->process_file, je.line, je.text);
	} else {
		json_t *base = spec->root ? json_object_get(spec->root, "process") : NULL;
		pj = base ? json_deep_copy(base) : json_object();
		json_t *args = json_array();
		for (size_t i = 0; i < a->n_args; i++)
			json_array_append_new(args, json_string(a->args[i]));
		json_object_set_new(pj, "args", args);
		json_object_set_new(pj, "terminal", json_boolean(a->tty));
		if (a->cwd)
			json_object_set_new(pj, "cwd", json_string(a->cwd));
		if (a->n_env) {
			json_t *env = json_object_get(pj, "env");
			if (!json_is_array(env)) {
				env = json_array();
				json_object_set_new(pj, "env", env);
			}
			for (size_t i = 0; i < a->n_env; i++)
				json_array_append_new(env, json_string(a->env[i]));
		}
		if (a->user) {
			unsigned uid = 0, gid = 0;
			int n = sscanf(a->user, "%u:%u", &uid, &gid);
			if (n < 1) {
				json_decref(pj);
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "exec: --user wants UID[:GID]");
			}
			json_t *u = json_object();
			json_object_set_new(u, "uid", json_integer(uid));
			json_object_set_new(u, "gid", json_integer(n > 1 ? gid : 0));
			json_object_set_new(pj, "user", u);
		}
		if (a->no_new_privs)
			json_object_set_new(pj, "noNewPrivileges", json_true());
		if (a->n_caps) {
			json_t *caps = json_object_get(pj, "capabilities");
			static const char *const sets[] = { "bounding", "effective", "permitted", "ambient" };
			if (!json_is_object(caps)) {
				caps = json_object();
				json_object_set_new(pj, "capabilities", caps);
			}
			for (size_t s = 0; s < 4; s++) {
				json_t *arr = json_object_get(caps, sets[s]);
				if (!json_is_array(arr)) {
					arr = json_array();
					json_object_set_new(caps, sets[s], arr);
				}
				for (size_t i = 0; i < a->n_caps; i++)
					json_array_append_new(arr, json_string(a->caps[i]));
			}
		}
	}
	int r = oci_process_parse(pj, a->process_file ? "process" : "process", p, err);
	if (r < 0) {
		cap_err_prefix(err, "exec");
		json_decref(pj);
		return r;
	}
	*pj_out = pj;
	return 0;
}

int oci_cmd_exec(const struct oci_opts *o, const struct oci_exec_args *a, cap_err *err)
{
	struct oci_state st;
	struct oci_spec spec;
	struct oci_process proc;
	struct oci_ctx c;
	json_t *pj = NULL;
	int r, status;
	pid_t pid = -1;

	memset(&spec, 0, sizeof(spec));
	memset(&proc, 0, sizeof(proc));
	oci_ctx_init(&c);
	r = oci_state_load(o->root, a->id, &st, err);
	if (r < 0)
		return r;
	if (st.status != ST_RUNNING && st.status != ST_CREATED) {
		r = cap_errf(err, 0, "cannot exec in container %s: it is %s", a->id, oci_status_name(st.status));
		goto out;
	}
	/* The container's config as recorded at create gives the defaults and the confinement
	 * (seccomp). A container created before that was recorded uses its bundle's config,
	 * and exec fails rather than run unconfined when that cannot be loaded. */
	json_t *ex = json_object_get(st.j, "exec");
	if (json_is_object(ex)) {
		json_t *pj = json_object_get(ex, "process"), *sc = json_object_get(ex, "seccomp");
		spec.root = json_object();
		if (pj)
			json_object_set(spec.root, "process", pj);
		spec.seccomp = sc;   /* borrowed from st.j, which outlives spec */
	} else if (!st.bundle) {
		r = cap_errf(err, 0, "exec: container %s: its state names no bundle", a->id);
		goto out;
	} else {
		char cfg[PATH_MAX + 16];
		snprintf(cfg, sizeof(cfg), "%s/config.json", st.bundle);
		if ((r = oci_spec_load(cfg, &spec, err)) < 0) {
			memset(&spec, 0, sizeof(spec));
			cap_err_prefix(err, "exec: container %s", a->id);
			goto out;
		}
	}
	r = exec_process(a, &spec, &pj, &proc, err);
	if (r < 0)
		goto out;
	if (proc.terminal && !a->console_socket && a->detach) {
		r = cap_errf(err, 0, "exec: a terminal for a detached process needs --console-socket");
		goto out;
	}
	c.opts = o;
	c.id = a->id;
	c.spec = &spec;
	c.proc = &proc;
	c.exec_mode = true;
	c.preserve_fds = a->preserve_fds;
	if ((r = oci_seccomp_compile(&c, err)) < 0)
		goto out;
	if ((r = cg_layout_detect(&c.cg, err)) < 0)
		goto out;
	snprintf(c.cgpath, sizeof(c.cgpath), "%s", st.cgroup ? st.cgroup : "/");
	if (a->console_socket && proc.terminal) {
		c.console_fd = oci_console_connect(a->console_socket, err);
		if (c.console_fd < 0) {
			r = c.console_fd;
			goto out;
		}
	} else if (proc.terminal && (r = oci_console_pair(&c.console_ours, &c.console_fd, err)) < 0) {
		goto out;
	}
	/* Release the lock: the exec'd process may run for a long time. */
	close(st.dirfd);
	st.dirfd = -1;
	pid = oci_exec_spawn(&c, st.pid, st.starttime, err);
	if (pid < 0) {
		r = pid;
		goto out;
	}
	if ((r = oci_write_pid_file(a->pid_file, pid, err)) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	if (a->detach) {
		r = 0;
		goto out;
	}
	{
		/* Signals to exec go to the process; a pty of ours is relayed to our stdio. */
		sigset_t mask, old;
		oci_forward_mask(&mask);
		sigprocmask(SIG_BLOCK, &mask, &old);
		int master = c.console_ours >= 0 ? oci_recv_fd(c.console_ours) : -1;
		status = 0;
		oci_wait_forward(pid, &mask, master, &status);
		if (master >= 0)
			close(master);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	oci_ctx_release(&c);
	oci_process_free(&proc);
	if (pj)
		json_decref(pj);
	oci_spec_free(&spec);
	oci_state_close(&st);
	return r;
}

int oci_cmd_list(const struct oci_opts *o, bool json, bool quiet, cap_err *err)
{
	DIR *d = opendir(o->root);
	struct dirent *de;
	json_t *arr = json_array();

	if (!d && errno != ENOENT) {
		json_decref(arr);
		return cap_errf(err, errno, "cannot read %s", o->root);
	}
	if (!json && !quiet)
		printf("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
	while (d && (de = readdir(d))) {
		struct oci_state st;
		cap_err tmp = { 0 };
		if (de->d_name[0] == '.')
			continue;
		if (oci_state_load(o->root, de->d_name, &st, &tmp) < 0)
			continue;
		json_t *pub = oci_state_public(&st);
		if (json)
			json_array_append(arr, pub);
		else if (quiet)
			printf("%s\n", st.id);
		else
			printf("%-20s %-8d %-10s %-40s %-30s %s\n", st.id,
			       st.status == ST_STOPPED ? 0 : st.pid, oci_status_name(st.status),
			       st.bundle ? st.bundle : "",
			       json_string_value(json_object_get(st.j, "created")) ?: "", "root");
		json_decref(pub);
		oci_state_close(&st);
	}
	if (d)
		closedir(d);
	if (json) {
		char *s = json_dumps(arr, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
	}
	json_decref(arr);
	return 0;
}

int oci_cmd_ps(const struct oci_opts *o, const char *id, bool json, cap_err *err)
{
	struct oci_state st;
	struct cg_layout cg;
	pid_t *pids = NULL;
	size_t n = 0;
	int r = oci_state_load(o->root, id, &st, err);
	if (r < 0)
		return r;
	if ((r = cg_layout_detect(&cg, err)) < 0)
		goto out;
	if (st.cgroup && (r = cg_pids(&cg, st.cgroup, &pids, &n)) < 0) {
		r = cap_errf(err, -r, "cannot list the processes of %s", id);
		goto out;
	}
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", pids[i]);
		printf("]\n");
	} else {
		printf("PID\n");
		for (size_t i = 0; i < n; i++)
			printf("%d\n", pids[i]);
	}
	r = 0;
out:
	free(pids);
	oci_state_close(&st);
	return r;
}

int oci_cmd_pause(const struct oci_opts *o, const char *id, bool pause, cap_err *err)
{
	struct oci_state st;
	struct cg_layout cg;
	int r = oci_state_load(o->root, id, &st, err);
	if (r < 0)
		return r;
	if (pause && st.status != ST_RUNNING) {
		r = cap_errf(err, 0, "cannot pause container %s: it is %s", id, oci_status_name(st.status));
		goto out;
	}
	if (!pause && st.status != ST_PAUSED) {
		r = cap_errf(err, 0, "cannot resume container %s: it is %s", id, oci_status_name(st.status));
		goto out;
	}
	if ((r = cg_layout_detect(&cg, err)) < 0 || (r = cg_freeze(&cg, st.cgroup, pause, err)) < 0)
		goto out;
	json_object_set_new(st.j, "paused", json_boolean(pause));
	r = oci_state_save(&st, err);
out:
	oci_state_close(&st);
	return r;
}

int oci_cmd_update(const struct oci_opts *o, const char *id, json_t *rj, cap_err *err)
{
	struct oci_state st;
	struct oci_resources res;
	struct cg_layout cg;
	int r = oci_state_load(o->root, id, &st, err);
	if (r < 0)
		return r;
	oci_resources_init(&res);
	if (st.status == ST_STOPPED) {
		r = cap_errf(err, 0, "cannot update container %s: it is stopped", id);
		goto out;
	}
	if ((r = oci_resources_parse(rj, "resources", &res, err)) < 0)
		goto out;
	if ((r = cg_layout_detect(&cg, err)) < 0)
		goto out;
	r = cg_apply(&cg, st.cgroup, &res, err);
out:
	oci_resources_free(&res);
	oci_state_close(&st);
	return r;
}

static json_t *strarr(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; n ? i < n : v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int oci_cmd_features(cap_err *err)
{
	static const char *const hooks[] = { "prestart", "createRuntime", "createContainer",
					      "startContainer", "poststart", "poststop", NULL };
	static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
		"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE",
		"SCMP_ACT_TRAP", NULL };
	static const char *const ops[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
		"SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL };
	static const char *const archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
		"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL };
	static const char *const flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
		"SECCOMP_FILTER_FLAG_TSYNC", NULL };
	json_t *f = json_object(), *l = json_object(), *caps = json_array(), *cg = json_object(),
	       *sc = json_object(), *ann = json_object();
	(void)err;
	json_object_set_new(f, "ociVersionMin", json_string("1.0.0"));
	json_object_set_new(f, "ociVersionMax", json_string("1.1.0"));
	json_object_set_new(f, "hooks", strarr(hooks, 0));
	json_object_set_new(f, "mountOptions", strarr(oci_mount_option_names, 0));
	json_object_set_new(l, "namespaces", strarr(oci_ns_names, OCI_NS_COUNT));
	for (int i = 0; i <= oci_cap_last(); i++)
		json_array_append_new(caps, json_string(oci_cap_name(i)));
	json_object_set_new(l, "capabilities", caps);
	json_object_set_new(cg, "v1", json_true());
	json_object_set_new(cg, "v2", json_true());
	json_object_set_new(cg, "systemd", json_false());
	json_object_set_new(cg, "systemdUser", json_false());
	json_object_set_new(l, "cgroup", cg);
	json_object_set_new(sc, "enabled", json_true());
	json_object_set_new(sc, "actions", strarr(actions, 0));
	json_object_set_new(sc, "operators", strarr(ops, 0));
	json_object_set_new(sc, "archs", strarr(archs, 0));
	json_object_set_new(sc, "knownFlags", strarr(flags, 0));
	json_object_set_new(sc, "supportedFlags", strarr(flags, 0));
	json_object_set_new(l, "seccomp", sc);
	json_object_set_new(l, "apparmor", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(l, "selinux", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(f, "linux", l);
	const struct scmp_version *v = seccomp_version();
	char ver[32];
	snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
	json_object_set_new(ann, "io.github.seccomp.libseccomp.version", json_string(ver));
	json_object_set_new(ann, "org.capsule.runtime.version", json_string(CAPSULE_VERSION));
	json_object_set_new(f, "annotations", ann);
	char *s = json_dumps(f, JSON_INDENT(4));
	printf("%s\n", s);
	free(s);
	json_decref(f);
	return 0;
}

static const char default_spec[] =
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

int oci_cmd_spec(const char *bundle, bool rootless, cap_err *err)
{
	char p[PATH_MAX + 16];
	(void)rootless;
	snprintf(p, sizeof(p), "%s/config.json", bundle ? bundle : ".");
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			return cap_errf(err, 0, "spec: %s already exists", p);
		return cap_errf(err, errno, "spec: cannot create %s", p);
	}
	ssize_t n = write(fd, default_spec, sizeof(default_spec) - 1);
	int e = errno;
	close(fd);
	if (n != (ssize_t)sizeof(default_spec) - 1)
		return cap_errf(err, e, "spec: cannot write %s", p);
	return 0;
}
