/* `capsule oci <command>` and the runc-compatible `capsule-runtime` entry point: the handlers
 * of the "oci" rows of the command table (table.c), the global options, errors to --log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/json.h"
#include "../lib/log.h"
#include "../oci/oci.h"
#include "commands.h"
#include "oci_output.h"


/* The global options (before the verb) as the runtime library wants them. */
static struct oci_runtime runtime(const struct cli_args *a)
{
	const char *root = cli_str(a, "root");
	return (struct oci_runtime){ .root = root ? root : OCI_DEFAULT_ROOT,
				     .systemd_cgroup = cli_flag(a, "systemd-cgroup") };
}

int oci_prepare(const struct cli_args *a, cap_err *err)
{
	(void)err;
	if (cli_flag(a, "debug"))
		cap_log_set_level(CAP_LOG_DEBUG);
	if (cli_flag(a, "version")) {
		printf("capsule-runtime version %s\nspec: 1.0.2\n", CAPSULE_VERSION);
		return 1;
	}
	return 0;
}

/* A Go duration as runc takes it: "5s", "500ms", "1m30s", "2h"; at least 1 ms. */
static int parse_duration_ms(const char *s, unsigned *out)
{
	static const struct { const char *unit; double ms; } units[] = {
		{ "ns", 1e-6 }, { "us", 1e-3 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	double total = 0;
	if (!*s)
		return -EINVAL;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		if (end == s || v < 0)
			return -EINVAL;
		size_t best = 0, best_len = 0;
		for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
			size_t n = strlen(units[k].unit);
			if (!strncmp(end, units[k].unit, n) && n > best_len) {
				best = k;
				best_len = n;
			}
		}
		if (!best_len)
			return -EINVAL;
		total += v * units[best].ms;
		s = end + best_len;
	}
	if (total < 1 || total > 86400000.0)
		return -EINVAL;
	*out = (unsigned)total;
	return 0;
}

/* The container id: the first positional. */
static const char *need_id(const struct cli_args *a, cap_err *err)
{
	if (a->argc < 1 || !a->argv[0][0])
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: a container id is required", a->cmd->verb), NULL;
	return a->argv[0];
}

void oci_finish(const struct cli_args *a, int rc, const cap_err *err)
{
	const char *log = cli_str(a, "log"), *format = cli_str(a, "log-format");
	if (!log || !err->set || rc >= 0)
		return;
	FILE *f = fopen(log, "ae");
	if (!f)
		return;
	char ts[64];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (format && !strcmp(format, "json")) {
		json_t *j = json_pack("{s:s,s:s,s:s}", "level", "error", "msg", err->msg, "time", ts);
		char *s = json_dumps(j, JSON_COMPACT);
		fprintf(f, "%s\n", s);
		free(s);
		json_decref(j);
	} else {
		fprintf(f, "time=\"%s\" level=error msg=\"%s\"\n", ts, err->msg);
	}
	fclose(f);
}

int cli_oci_update(const struct cli_args *a, cap_err *err)
{
	struct oci_runtime rt = runtime(a);
	const char *res = cli_str(a, "resources"), *mem = cli_str(a, "memory"), *swap = cli_str(a, "memory-swap"),
		   *pids = cli_str(a, "pids-limit"), *shares = cli_str(a, "cpu-shares"),
		   *quota = cli_str(a, "cpu-quota"), *period = cli_str(a, "cpu-period"),
		   *cpus = cli_str(a, "cpuset-cpus"), *mems = cli_str(a, "cpuset-mems");
	const char *id = need_id(a, err);
	if (!id)
		return -1;
	json_t *rj;
	if (res) {
		json_error_t je;
		rj = !strcmp(res, "-") ? json_loadf(stdin, 0, &je) : json_load_file(res, 0, &je);
		if (!rj || !json_is_object(rj)) {
			if (rj)
				json_decref(rj);
			return cap_errf(err, 0, "update: --resources %s: %s", res, rj ? "not an object" : je.text);
		}
	} else {
		rj = json_object();
	}
	/* Numbers are checked (strtoll took "512m" as 512); memory sizes take units like runc. */
	const struct { const char *obj, *key, *opt, *val; bool units; } nums[] = {
		{ "memory", "limit", "--memory", mem, true }, { "memory", "swap", "--memory-swap", swap, true },
		{ "pids", "limit", "--pids-limit", pids, false }, { "cpu", "shares", "--cpu-shares", shares, false },
		{ "cpu", "quota", "--cpu-quota", quota, false }, { "cpu", "period", "--cpu-period", period, false },
	};
	for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
		long long v;
		if (!nums[k].val)
			continue;
		if (oci_parse_bytes(nums[k].val, nums[k].units, &v) < 0) {
			json_decref(rj);
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "update: %s: invalid %s '%s'", nums[k].opt,
					     nums[k].units ? "size" : "number", nums[k].val);
		}
		json_t *o_ = json_object_get(rj, nums[k].obj);
		if (!o_) {
			o_ = json_object();
			json_object_set_new(rj, nums[k].obj, o_);
		}
		json_object_set_new(o_, nums[k].key, json_integer(v));
	}
	if (cpus || mems) {
		json_t *c = json_object_get(rj, "cpu");
		if (!c) {
			c = json_object();
			json_object_set_new(rj, "cpu", c);
		}
		if (cpus)
			json_object_set_new(c, "cpus", json_string(cpus));
		if (mems)
			json_object_set_new(c, "mems", json_string(mems));
	}
	int r = oci_update(&rt, id, rj, err);
	json_decref(rj);
	return r;
}

static int create_args(const struct cli_args *a, struct oci_create_args *c, cap_err *err)
{
	*c = (struct oci_create_args){ .bundle = cli_str(a, "bundle"), .pid_file = cli_str(a, "pid-file"),
				       .console_socket = cli_str(a, "console-socket"),
				       .preserve_fds = cli_int(a, "preserve-fds", 0), .no_pivot = cli_flag(a, "no-pivot"),
				       .no_new_keyring = cli_flag(a, "no-new-keyring"), .detach = cli_flag(a, "detach") };
	return (c->id = need_id(a, err)) ? 0 : -1;
}

int cli_oci_create(const struct cli_args *a, cap_err *err)
{
	struct oci_runtime rt = runtime(a);
	struct oci_create_args c;
	return create_args(a, &c, err) < 0 ? -1 : oci_create(&rt, &c, NULL, err);
}

int cli_oci_run(const struct cli_args *a, cap_err *err)
{
	struct oci_runtime rt = runtime(a);
	struct oci_create_args c;
	return create_args(a, &c, err) < 0 ? -1 : oci_run(&rt, &c, err);
}

/* The commands that take only an id. */
#define ID_COMMAND(verb, call)                                      \
	int cli_oci_##verb(const struct cli_args *a, cap_err *err)  \
	{                                                           \
		struct oci_runtime rt = runtime(a);                 \
		const char *id = need_id(a, err);                   \
		return id ? call(&rt, id, err) : -1;                \
	}
ID_COMMAND(start, oci_start)
ID_COMMAND(state, oci_print_state)
ID_COMMAND(pause, oci_pause)
ID_COMMAND(resume, oci_resume)

int cli_oci_kill(const struct cli_args *a, cap_err *err)
{
	struct oci_runtime rt = runtime(a);
	const char *id = need_id(a, err);
	if (!id)
		return -1;
	const char *signame = a->argc > 1 ? a->argv[1] : "TERM";
	int sig = oci_signal_number(signame);
	if (sig < 0)
		return cap_errf(err, 0, "kill: unknown signal '%s'", signame);
	return oci_kill(&rt, id, sig, cli_flag(a, "all"), err);
}

int cli_oci_delete(const struct cli_args *a, cap_err *err)
{
	struct oci_runtime rt = runtime(a);
	const char *id = need_id(a, err);
	return id ? oci_delete(&rt, id, cli_flag(a, "force"), err) : -1;
}

int cli_oci_exec(const struct cli_args *a, cap_err *err)
{
	/* exec's child enters the container as this binary: it runs from a sealed copy
	 * (create and run decide in do_create, from the config). */
	int r = oci_reexec_sealed();
	if (r < 0)
		cap_debug("not running from a sealed copy of the binary: %s", strerror(-r));

	struct oci_runtime rt = runtime(a);
	struct oci_exec_args e = { .process_file = cli_str(a, "process"), .detach = cli_flag(a, "detach"),
				   .pid_file = cli_str(a, "pid-file"), .tty = cli_flag(a, "tty"),
				   .cwd = cli_str(a, "cwd"), .user = cli_str(a, "user"),
				   .console_socket = cli_str(a, "console-socket"),
				   .no_new_privs = cli_flag(a, "no-new-privs"),
				   .preserve_fds = cli_int(a, "preserve-fds", 0) };
	if (!(e.id = need_id(a, err)))
		return -1;
	e.args = (const char **)a->argv + 1;
	e.n_args = (size_t)(a->argc - 1);
	if (!e.process_file && !e.n_args)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "exec: give --process FILE or a command");
	e.env = cli_all(a, "env", &e.n_env);
	e.caps = cli_all(a, "cap", &e.n_caps);
	r = oci_exec(&rt, &e, NULL, err);
	free(e.env);
	free(e.caps);
	return r;
}

static bool json_format(const struct cli_args *a)
{
	const char *f = cli_str(a, "format");
	return f && !strcmp(f, "json");
}

int cli_oci_list(const struct cli_args *a, cap_err *err)
{
	struct oci_runtime rt = runtime(a);
	return oci_print_list(&rt, json_format(a), cli_flag(a, "quiet"), err);
}

int cli_oci_ps(const struct cli_args *a, cap_err *err)
{
	struct oci_runtime rt = runtime(a);
	const char *id = need_id(a, err);
	return id ? oci_print_ps(&rt, id, json_format(a), err) : -1;
}

int cli_oci_events(const struct cli_args *a, cap_err *err)
{
	struct oci_runtime rt = runtime(a);
	const char *interval = cli_str(a, "interval");
	unsigned ms;
	const char *id = need_id(a, err);
	if (!id)
		return -1;
	if (!interval)
		interval = "5s";
	if (parse_duration_ms(interval, &ms) < 0)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "events: --interval: invalid duration '%s'", interval);
	return oci_print_events(&rt, id, cli_flag(a, "stats"), ms, err);
}

int cli_oci_features(const struct cli_args *a, cap_err *err)
{
	(void)a;
	return oci_print_features(err);
}

int cli_oci_spec(const struct cli_args *a, cap_err *err)
{
	return oci_write_spec(cli_str(a, "bundle"), cli_flag(a, "rootless"), err);
}
