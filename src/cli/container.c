/* capsule container <verb> (also capsule run, ps, logs, ...): the engine's managed containers. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../engine/envfile.h"
#include "../engine/run.h"
#include "../image/store.h"
#include "../oci/oci.h"
#include "commands.h"

#define MAX_VOLUMES 64

static int parse_volume(const char *spec, struct engine_volume *v, char *buf, size_t sz, cap_err *err)
{
	if (snprintf(buf, sz, "%s", spec) >= (int)sz)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "volume %s: too long", spec);
	char *c1 = strchr(buf, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "volume %s: want HOST:CONTAINER[:ro|rw]", spec);
	*c1 = 0;
	if (c2) {
		*c2 = 0;
		if (strcmp(c2 + 1, "ro") && strcmp(c2 + 1, "rw"))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "volume %s: want ro or rw after the second ':'", spec);
	}
	v->host = buf, v->ctr = c1 + 1, v->ro = c2 && !strcmp(c2 + 1, "ro");
	return 0;
}

static int parse_limits(const struct cli_args *a, struct engine_run_opts *o, cap_err *err)
{
	const char *m = cli_str(a, "memory"), *c = cli_str(a, "cpus"), *p = cli_str(a, "pids-limit");
	if (m) {
		long long b;
		if (oci_parse_bytes(m, true, &b) < 0 || b <= 0)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "memory '%s': want a size (64m, 1g)", m);
		o->memory = b;
	}
	if (c) {
		char *end;
		o->cpus = strtod(c, &end);
		if (*end || o->cpus <= 0 || o->cpus > 1024)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "cpus '%s': want a positive number (0.5, 2)", c);
	}
	if (p) {
		char *end;
		long long v = strtoll(p, &end, 10);
		if (*end || v <= 0)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "pids-limit '%s': want a positive number", p);
		o->pids = v;
	}
	return 0;
}

int cli_container_run(const struct cli_args *a, cap_err *err)
{
	struct engine_run_args r = { .image = a->argv[0], .name = cli_str(a, "name") };
	struct engine_volume vols[MAX_VOLUMES];
	char vbuf[MAX_VOLUMES][PATH_MAX];
	struct store s;
	size_t nv = 0, ne = 0;
	const char **v = cli_all(a, "volume", &nv);
	const char **env = cli_all(a, "env", &ne);
	int rc = -1;
	const char *net = cli_str(a, "network");

	r.proc.cmd = (const char *const *)a->argv + 1;
	r.proc.n_cmd = (size_t)a->argc - 1;
	r.proc.entrypoint = cli_str(a, "entrypoint");
	/* docker's order: the env files first, then -e; a later entry for a key wins. */
	size_t nf = 0;
	const char **files = cli_all(a, "env-file", &nf);
	struct envlist el = { 0 };
	for (size_t i = 0; i < nf; i++)
		if (engine_env_file_read(files[i], &el, err) < 0) {
			free(files);
			goto out;
		}
	free(files);
	for (size_t i = 0; i < ne; i++)
		if (envlist_add(&el, env[i], strlen(env[i])) < 0) {
			cap_errf(err, ENOMEM, "run: environment");
			goto out;
		}
	r.proc.env = (const char *const *)el.v;
	r.proc.n_env = el.n;
	r.proc.workdir = cli_str(a, "workdir");
	r.proc.user = cli_str(a, "user");
	r.proc.hostname = cli_str(a, "hostname");
	r.proc.tty = cli_flag(a, "tty");
	r.detach = cli_flag(a, "detach");
	r.rm = cli_flag(a, "rm");
	size_t np = 0;
	const char **pub = cli_all(a, "publish", &np);
	struct engine_port ports[MAX_VOLUMES];
	/* -p without --network means the bridge (the only network that publishes). */
	r.net = !net ? (np ? ENGINE_NET_BRIDGE : ENGINE_NET_NONE)
	      : !strcmp(net, "host") ? ENGINE_NET_HOST : !strcmp(net, "bridge") ? ENGINE_NET_BRIDGE : ENGINE_NET_NONE;
	if (np > MAX_VOLUMES) {
		cap_errf_code(err, CAP_EXIT_USAGE, 0, "run: at most %d published ports", MAX_VOLUMES);
		free(pub);
		goto out;
	}
	for (size_t i = 0; i < np; i++)
		if (engine_parse_port(pub[i], &ports[i], err) < 0) {
			free(pub);
			goto out;
		}
	free(pub);
	if (np && r.net != ENGINE_NET_BRIDGE) {
		cap_errf_code(err, CAP_EXIT_USAGE, 0, "run: -p publishes ports of the bridge network only (--network bridge)");
		goto out;
	}
	r.ports = ports;
	r.n_ports = np;
	if (nv > MAX_VOLUMES) {
		cap_errf_code(err, CAP_EXIT_USAGE, 0, "run: at most %d volumes", MAX_VOLUMES);
		goto out;
	}
	for (size_t i = 0; i < nv; i++)
		if (parse_volume(v[i], &vols[i], vbuf[i], sizeof(vbuf[i]), err) < 0)
			goto out;
	r.volumes = vols;
	r.n_volumes = nv;
	if (parse_limits(a, &r.proc, err) < 0)
		goto out;
	if (r.detach && r.proc.tty) {
		cap_errf_code(err, CAP_EXIT_USAGE, 0, "run: -t with -d is not supported yet (no attach): drop -t");
		goto out;
	}
	if (cli_store_open(&s, false, err) < 0)
		goto out;
	char id[INSTANCE_ID_LEN + 1] = "";
	rc = engine_run(&s, &r, id, err);
	if (rc >= 0 && r.detach)
		printf("%s\n", id);
	store_close(&s);
out:
	envlist_free(&el);
	free(v);
	free(env);
	return rc;
}

static int open_find(const char *ref, struct store *s, struct instance *in, cap_err *err)
{
	if (cli_store_open(s, false, err) < 0)
		return -1;
	if (instance_find(s, ref, in, err) < 0) {
		store_close(s);
		return -1;
	}
	return 0;
}

static void age(const char *iso, char *buf, size_t sz)
{
	struct tm tm = { 0 };
	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, sz, "?");
		return;
	}
	long d = (long)difftime(time(NULL), timegm(&tm));
	if (d < 120)
		snprintf(buf, sz, "%ld seconds ago", d);
	else if (d < 7200)
		snprintf(buf, sz, "%ld minutes ago", d / 60);
	else
		snprintf(buf, sz, "%ld hours ago", d / 3600);
}

int cli_container_ps(const struct cli_args *a, cap_err *err)
{
	struct store s;
	struct instance *v;
	size_t n;
	bool all = cli_flag(a, "all"), quiet = cli_flag(a, "quiet");
	const char *fmt = cli_str(a, "format");
	bool json = fmt && !strcmp(fmt, "json");
	if (cli_store_open(&s, false, err) < 0)
		return -1;
	if (instance_list(&s, &v, &n, err) < 0) {
		store_close(&s);
		return -1;
	}
	json_t *arr = json ? json_array() : NULL;
	if (!json && !quiet)
		printf("%-12s  %-24s  %-24s  %-16s  %-18s  %s\n", "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
		       "NAMES");
	for (size_t i = 0; i < n; i++) {
		int code;
		enum instance_state st = instance_status(&s, &v[i], &code);
		if (!all && st != INST_RUNNING && st != INST_PAUSED)
			continue;
		char status[32], cmd[256] = "", created[48];
		if (st == INST_EXITED && code >= 0)
			snprintf(status, sizeof(status), "exited (%d)", code);
		else if (st == INST_EXITED)
			snprintf(status, sizeof(status), "exited (unknown)");
		else
			snprintf(status, sizeof(status), "%s", instance_state_name(st));
		json_t *args = json_object_get(v[i].rec, "command"), *x;
		size_t k, len = 0;
		json_array_foreach(args, k, x) {
			int w = snprintf(cmd + len, sizeof(cmd) - len, "%s%s", k ? " " : "", json_string_value(x) ?: "");
			if (w < 0 || (size_t)w >= sizeof(cmd) - len)
				break;
			len += (size_t)w;
		}
		if (json) {
			json_t *o = json_deep_copy(v[i].rec);
			json_object_set_new(o, "state", json_string(instance_state_name(st)));
			if (st == INST_EXITED)
				json_object_set_new(o, "exit_code", code >= 0 ? json_integer(code) : json_null());
			json_array_append_new(arr, o);
		} else if (quiet) {
			printf("%.12s\n", v[i].id);
		} else {
			age(instance_str(&v[i], "created"), created, sizeof(created));
			printf("%-12.12s  %-24.24s  %-24.24s  %-16.16s  %-18.18s  %s\n", v[i].id,
			       instance_str(&v[i], "image_ref") ?: "", cmd, created, status, instance_str(&v[i], "name") ?: "");
		}
	}
	if (json) {
		char *t = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", t ? t : "[]");
		free(t);
		json_decref(arr);
	}
	instance_list_free(v, n);
	store_close(&s);
	return 0;
}

/* The log's lines, or the last tail of them (tail < 0: all), from offset *off on. */
static int print_log(const char *path, long tail, off_t *off)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (tail >= 0 && *off == 0) {
		long total = 0;
		while (getline(&line, &cap, f) > 0)
			total++;
		rewind(f);
		for (long skip = total - tail; skip > 0 && getline(&line, &cap, f) > 0; skip--)
			;
	} else {
		fseeko(f, *off, SEEK_SET);
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n')
			break; /* being written: the next round reads it whole */
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		const char *stream = json_string_value(json_object_get(j, "stream"));
		json_t *l = json_object_get(j, "log");
		if (json_is_string(l)) {
			FILE *to = stream && !strcmp(stream, "stderr") ? stderr : stdout;
			fwrite(json_string_value(l), 1, json_string_length(l), to);
		}
		json_decref(j);
		*off = ftello(f);
	}
	fflush(stdout);
	free(line);
	fclose(f);
	return 0;
}

int cli_container_logs(const struct cli_args *a, cap_err *err)
{
	struct store s;
	struct instance in;
	char path[PATH_MAX + 16];
	const char *t = cli_str(a, "tail");
	long tail = -1;
	if (t && strcmp(t, "all")) {
		char *end;
		tail = strtol(t, &end, 10);
		if (*end || tail < 0)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "logs --tail '%s': want a number or all", t);
	}
	if (open_find(a->argv[0], &s, &in, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/ctr.log", in.dir);
	off_t off = 0;
	print_log(path, tail, &off);
	if (cli_flag(a, "follow")) {
		for (;;) {
			int code;
			enum instance_state st = instance_status(&s, &in, &code);
			print_log(path, -1, &off);
			if (st == INST_EXITED)
				break;
			usleep(100000);
		}
	}
	instance_free(&in);
	store_close(&s);
	return 0;
}

int cli_container_stop(const struct cli_args *a, cap_err *err)
{
	int rc = 0, timeout = cli_int(a, "time", 10);
	for (int i = 0; i < a->argc; i++) {
		struct store s;
		struct instance in;
		if (open_find(a->argv[i], &s, &in, err) < 0)
			return -1;
		if (engine_stop(&s, &in, timeout, err) < 0)
			rc = -1;
		else
			printf("%s\n", a->argv[i]);
		instance_free(&in);
		store_close(&s);
		if (rc < 0)
			break;
	}
	return rc;
}

int cli_container_kill(const struct cli_args *a, cap_err *err)
{
	const char *sigs = cli_str(a, "signal");
	int sig = sigs ? oci_signal_number(sigs) : 9;
	if (sig <= 0)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "kill: unknown signal '%s'", sigs);
	struct store s;
	struct instance in;
	if (open_find(a->argv[0], &s, &in, err) < 0)
		return -1;
	int r = engine_kill(&s, &in, sig, err);
	instance_free(&in);
	store_close(&s);
	return r < 0 ? -1 : 0;
}

int cli_container_rm(const struct cli_args *a, cap_err *err)
{
	for (int i = 0; i < a->argc; i++) {
		struct store s;
		struct instance in;
		if (open_find(a->argv[i], &s, &in, err) < 0)
			return -1;
		int r = engine_rm(&s, &in, cli_flag(a, "force"), err);
		instance_free(&in);
		store_close(&s);
		if (r < 0)
			return -1;
		printf("%s\n", a->argv[i]);
	}
	return 0;
}

int cli_container_inspect(const struct cli_args *a, cap_err *err)
{
	json_t *arr = json_array();
	for (int i = 0; i < a->argc; i++) {
		struct store s;
		struct instance in;
		if (open_find(a->argv[i], &s, &in, err) < 0) {
			json_decref(arr);
			return -1;
		}
		int code;
		enum instance_state st = instance_status(&s, &in, &code);
		json_t *o = json_deep_copy(in.rec);
		json_object_set_new(o, "state", json_string(instance_state_name(st)));
		json_array_append_new(arr, o);
		instance_free(&in);
		store_close(&s);
	}
	char *t = json_dumps(arr, JSON_INDENT(2));
	printf("%s\n", t);
	free(t);
	json_decref(arr);
	return 0;
}

int cli_container_wait(const struct cli_args *a, cap_err *err)
{
	struct store s;
	struct instance in;
	int code = -1;
	if (open_find(a->argv[0], &s, &in, err) < 0)
		return -1;
	engine_wait(&s, &in, &code, err);
	printf("%d\n", code);
	instance_free(&in);
	store_close(&s);
	return 0;
}

int cli_container_exec(const struct cli_args *a, cap_err *err)
{
	struct store s;
	struct instance in;
	char root[PATH_MAX];
	size_t ne = 0;
	if (open_find(a->argv[0], &s, &in, err) < 0)
		return -1;
	int code;
	int rc = -1;
	if (instance_status(&s, &in, &code) != INST_RUNNING) {
		cap_errf(err, 0, "container %s: not running", a->argv[0]);
		goto out;
	}
	instance_oci_root(&s, root, sizeof(root));
	struct oci_runtime rt = { .root = root };
	const char **env = cli_all(a, "env", &ne);
	struct oci_exec_args ea = { .id = in.id, .args = (const char **)a->argv + 1, .n_args = (size_t)a->argc - 1,
				    .cwd = cli_str(a, "workdir"), .user = cli_str(a, "user"), .env = env, .n_env = ne,
				    .tty = cli_flag(a, "tty"), .detach = cli_flag(a, "detach") };
	store_close(&s);
	rc = oci_exec(&rt, &ea, NULL, err);
	free(env);
out:
	instance_free(&in);
	store_close(&s);
	return rc < 0 ? -1 : rc;
}

/* The createRuntime hook of a bridge-network container (net.h): the runtime's state on stdin. */
int cli_container_net_hook(const struct cli_args *a, cap_err *err)
{
	json_error_t je;
	json_t *state = json_loadf(stdin, 0, &je);
	json_int_t pid = json_integer_value(json_object_get(state, "pid"));
	json_decref(state);
	if (pid <= 0)
		return cap_errf(err, 0, "net-hook: no container pid in the state on stdin");
	struct store s;
	struct instance in;
	if (open_find(a->argv[0], &s, &in, err) < 0)
		return -1;
	struct engine_port ports[64];
	size_t n = 0;
	const char *ip = instance_str(&in, "ip");
	engine_ports_from_json(json_object_get(in.rec, "ports"), ports, 64, &n);
	int r = ip ? engine_net_plumb(in.id, (pid_t)pid, ip, ports, n, err)
		   : cap_errf(err, 0, "net-hook: container %s has no address", a->argv[0]);
	instance_free(&in);
	store_close(&s);
	return r < 0 ? -1 : 0;
}
