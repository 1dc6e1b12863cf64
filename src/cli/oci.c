/* `capsule oci <command>` and the runc-compatible `capsule-runtime` entry point:
 * global options, one option table per command, error logging to --log. */
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

#ifndef CAPSULE_VERSION
#define CAPSULE_VERSION "0.1.0"
#endif

/* The global options; the runtime library gets what it needs of them (struct oci_runtime). */
struct oci_opts {
	const char *root;          /* state root, default /run/capsule */
	const char *log, *log_format;
	bool systemd_cgroup, debug, rootless;
};

enum opt_kind { O_FLAG, O_STR, O_INT, O_LIST };

struct opt {
	const char *name;   /* long name without dashes */
	char shrt;
	enum opt_kind kind;
	void *ptr;          /* bool*, const char**, int*, struct strlist* */
};

struct strlist { const char **v; size_t n; };

/* Set by parse_opts when a command's options include --help. */
static bool help_asked;

static void list_add(struct strlist *l, const char *s)
{
	const char **nv = realloc(l->v, (l->n + 2) * sizeof(*nv));
	if (!nv)
		abort();
	l->v = nv;
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

/* Parse options up to the first positional argument (or "--"); returns the index of
 * the first positional, or -1 with err filled. Accepts --x v, --x=v, -x v, -x. */
static int parse_opts(int argc, char **argv, int i, const struct opt *opts, const char *cmd,
		      cap_err *err)
{
	for (; i < argc; i++) {
		char *a = argv[i];
		if (!strcmp(a, "--")) {
			return i + 1;
		}
		if (a[0] != '-' || !a[1])
			return i;
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *val = NULL;
		char buf[64];
		const char *eq = strchr(name, '=');
		if (eq) {
			snprintf(buf, sizeof(buf), "%.*s", (int)(eq - name), name);
			name = buf;
			val = eq + 1;
		}
		const struct opt *o = NULL;
		for (const struct opt *p = opts; p && p->name; p++)
			if ((a[1] == '-' && !strcmp(p->name, name)) ||
			    (a[1] != '-' && p->shrt && name[0] == p->shrt && (!name[1] || eq)))
				o = p;
		/* Single-dash long options (-bundle) are accepted like Go's flag package does. */
		if (!o && a[1] != '-')
			for (const struct opt *p = opts; p && p->name; p++)
				if (!strcmp(p->name, name))
					o = p;
		if (!o && (!strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "-help"))) {
			/* "run --help": among the options only, so "exec ID ls --help" runs ls. */
			help_asked = true;
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: --help", cmd), -1;
		}
		if (!o)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: unknown option %s", cmd, a), -1;
		if (o->kind == O_FLAG) {
			*(bool *)o->ptr = !val || strcmp(val, "false");
			continue;
		}
		if (!val) {
			if (i + 1 >= argc)
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: option %s needs a value", cmd,
						     a), -1;
			val = argv[++i];
		}
		if (o->kind == O_STR)
			*(const char **)o->ptr = val;
		else if (o->kind == O_LIST)
			list_add(o->ptr, val);
		else {
			char *end;
			long n = strtol(val, &end, 10);
			if (*end || n < 0)
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: %s wants a number", cmd, a), -1;
			*(int *)o->ptr = (int)n;
		}
	}
	return i;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: capsule oci [global options] <command> [options] <container-id>\n"
		"       capsule-runtime [global options] <command> ...   (runc-compatible)\n"
		"\n"
		"Global options: --root DIR (default " OCI_DEFAULT_ROOT "), --log FILE, --log-format text|json,\n"
		"                --debug, --systemd-cgroup, --rootless, --version, --help\n"
		"\n"
		"Commands:\n"
		"  create [--bundle DIR] [--pid-file F] [--console-socket S] [--preserve-fds N]\n"
		"         [--no-pivot] [--no-new-keyring] ID       create a container, stopped before its program\n"
		"  start ID                                        run the program of a created container\n"
		"  run [create options] [--detach] ID              create + start, wait, delete; exits with its status\n"
		"  state ID                                        runtime-spec state JSON\n"
		"  kill [--all] ID [SIGNAL]                        send SIGNAL (name or number; default TERM)\n"
		"  delete [--force] ID                             remove a stopped (or, forced, any) container\n"
		"  exec [--process F | ARGS...] [--detach] [--pid-file F] [--tty] [--cwd D] [--env K=V]\n"
		"       [--user UID[:GID]] [--console-socket S] ID  run another process in the container\n"
		"  list [--format table|json] [--quiet]            containers under --root\n"
		"  ps [--format table|json] ID                     pids in the container\n"
		"  pause ID | resume ID                            freeze / thaw the container's cgroup\n"
		"  update [--resources F|-] [--memory N] [--pids-limit N] [--cpu-shares N] [--cpu-quota N]\n"
		"         [--cpu-period N] [--cpuset-cpus S] [--cpuset-mems S] ID\n"
		"  events [--stats] [--interval DURATION] ID       resource usage (JSON) every DURATION\n"
		"                                                  (default 5s) and OOM events; --stats: once\n"
		"  features                                        what this runtime supports (JSON)\n"
		"  spec [--bundle DIR] [--rootless]                write a default config.json\n"
		"\n"
		"Exit codes: 0 ok, 1 error, 2 usage; run/exec exit with the process's status\n"
		"(128+N when killed by signal N).\n");
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

static int need_id(int argc, char **argv, int i, const char *cmd, cap_err *err)
{
	if (i >= argc || !argv[i][0])
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: a container id is required", cmd);
	return 0;
}

static void log_error(const struct oci_opts *o, const cap_err *err)
{
	if (!o->log || !err->set)
		return;
	FILE *f = fopen(o->log, "ae");
	if (!f)
		return;
	char ts[64];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (o->log_format && !strcmp(o->log_format, "json")) {
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

static int update_cmd(const struct oci_runtime *g, int argc, char **argv, int i, cap_err *err)
{
	const char *res = NULL, *mem = NULL, *swap = NULL, *pids = NULL, *shares = NULL, *quota = NULL,
		   *period = NULL, *cpus = NULL, *mems = NULL;
	const struct opt opts[] = {
		{ "resources", 'r', O_STR, &res }, { "memory", 'm', O_STR, &mem },
		{ "memory-swap", 0, O_STR, &swap }, { "pids-limit", 0, O_STR, &pids },
		{ "cpu-shares", 0, O_STR, &shares }, { "cpu-quota", 0, O_STR, &quota },
		{ "cpu-period", 0, O_STR, &period }, { "cpuset-cpus", 0, O_STR, &cpus },
		{ "cpuset-mems", 0, O_STR, &mems }, { NULL, 0, 0, NULL },
	};
	if ((i = parse_opts(argc, argv, i, opts, "update", err)) < 0 || need_id(argc, argv, i, "update", err) < 0)
		return -EINVAL;
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
	int r = oci_update(g, argv[i], rj, err);
	json_decref(rj);
	return r;
}

static int dispatch(const struct oci_runtime *g, int argc, char **argv, int i, cap_err *err)
{
	const char *cmd = argv[i++];

	/* exec's child enters the container as this binary: it runs from a sealed copy
	 * (create and run decide in do_create, from the config). */
	if (!strcmp(cmd, "exec")) {
		int r = oci_reexec_sealed();
		if (r < 0)
			cap_debug("not running from a sealed copy of the binary: %s", strerror(-r));
	}

	if (!strcmp(cmd, "create") || !strcmp(cmd, "run")) {
		struct oci_create_args a = { 0 };
		bool detach = false, keep = false, nosub = false;
		const char *notify = NULL;
		const struct opt opts[] = {
			{ "bundle", 'b', O_STR, &a.bundle }, { "pid-file", 0, O_STR, &a.pid_file },
			{ "console-socket", 0, O_STR, &a.console_socket },
			{ "preserve-fds", 0, O_INT, &a.preserve_fds }, { "no-pivot", 0, O_FLAG, &a.no_pivot },
			{ "no-new-keyring", 0, O_FLAG, &a.no_new_keyring }, { "detach", 'd', O_FLAG, &detach },
			{ "keep", 0, O_FLAG, &keep }, { "no-subreaper", 0, O_FLAG, &nosub },
			{ "notify-socket", 0, O_STR, &notify }, { NULL, 0, 0, NULL },
		};
		if ((i = parse_opts(argc, argv, i, opts, cmd, err)) < 0 || need_id(argc, argv, i, cmd, err) < 0)
			return -EINVAL;
		a.id = argv[i];
		a.detach = detach;
		return !strcmp(cmd, "run") ? oci_run(g, &a, err) : oci_create(g, &a, NULL, err);
	}
	if (!strcmp(cmd, "start") || !strcmp(cmd, "state") || !strcmp(cmd, "pause") ||
	    !strcmp(cmd, "resume")) {
		if ((i = parse_opts(argc, argv, i, NULL, cmd, err)) < 0 || need_id(argc, argv, i, cmd, err) < 0)
			return -EINVAL;
		if (!strcmp(cmd, "start"))
			return oci_start(g, argv[i], err);
		if (!strcmp(cmd, "state"))
			return oci_print_state(g, argv[i], err);
		return !strcmp(cmd, "pause") ? oci_pause(g, argv[i], err) : oci_resume(g, argv[i], err);
	}
	if (!strcmp(cmd, "kill")) {
		bool all = false;
		const struct opt opts[] = { { "all", 'a', O_FLAG, &all }, { NULL, 0, 0, NULL } };
		if ((i = parse_opts(argc, argv, i, opts, cmd, err)) < 0 || need_id(argc, argv, i, cmd, err) < 0)
			return -EINVAL;
		const char *signame = i + 1 < argc ? argv[i + 1] : "TERM";
		int sig = oci_signal_number(signame);
		if (sig < 0)
			return cap_errf(err, 0, "kill: unknown signal '%s'", signame);
		return oci_kill(g, argv[i], sig, all, err);
	}
	if (!strcmp(cmd, "delete")) {
		bool force = false;
		const struct opt opts[] = { { "force", 'f', O_FLAG, &force }, { NULL, 0, 0, NULL } };
		if ((i = parse_opts(argc, argv, i, opts, cmd, err)) < 0 || need_id(argc, argv, i, cmd, err) < 0)
			return -EINVAL;
		return oci_delete(g, argv[i], force, err);
	}
	if (!strcmp(cmd, "exec")) {
		struct oci_exec_args a = { 0 };
		struct strlist env = { 0 }, caps = { 0 };
		const char *label = NULL, *apparmor = NULL, *cgroup = NULL;
		const struct opt opts[] = {
			{ "process", 'p', O_STR, &a.process_file }, { "detach", 'd', O_FLAG, &a.detach },
			{ "pid-file", 0, O_STR, &a.pid_file }, { "tty", 't', O_FLAG, &a.tty },
			{ "cwd", 0, O_STR, &a.cwd }, { "env", 'e', O_LIST, &env },
			{ "user", 'u', O_STR, &a.user }, { "console-socket", 0, O_STR, &a.console_socket },
			{ "cap", 'c', O_LIST, &caps }, { "no-new-privs", 0, O_FLAG, &a.no_new_privs },
			{ "preserve-fds", 0, O_INT, &a.preserve_fds }, { "process-label", 0, O_STR, &label },
			{ "apparmor", 0, O_STR, &apparmor }, { "cgroup", 0, O_STR, &cgroup },
			{ NULL, 0, 0, NULL },
		};
		int r;
		if ((i = parse_opts(argc, argv, i, opts, cmd, err)) < 0 || need_id(argc, argv, i, cmd, err) < 0) {
			r = -EINVAL;
			goto exec_out;
		}
		a.id = argv[i];
		a.args = (const char **)argv + i + 1;
		a.n_args = (size_t)(argc - i - 1);
		a.env = env.v;
		a.n_env = env.n;
		a.caps = caps.v;
		a.n_caps = caps.n;
		if (!a.process_file && !a.n_args) {
			r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "exec: give --process FILE or a command");
			goto exec_out;
		}
		r = oci_exec(g, &a, NULL, err);
exec_out:
		free(env.v);
		free(caps.v);
		return r;
	}
	if (!strcmp(cmd, "list") || !strcmp(cmd, "ps")) {
		const char *format = "table";
		bool quiet = false;
		const struct opt opts[] = { { "format", 'f', O_STR, &format }, { "quiet", 'q', O_FLAG, &quiet },
					    { NULL, 0, 0, NULL } };
		if ((i = parse_opts(argc, argv, i, opts, cmd, err)) < 0)
			return -EINVAL;
		if (strcmp(format, "json") && strcmp(format, "table"))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: --format must be table or json", cmd);
		if (!strcmp(cmd, "list"))
			return oci_print_list(g, !strcmp(format, "json"), quiet, err);
		if (need_id(argc, argv, i, cmd, err) < 0)
			return -EINVAL;
		return oci_print_ps(g, argv[i], !strcmp(format, "json"), err);
	}
	if (!strcmp(cmd, "update"))
		return update_cmd(g, argc, argv, i, err);
	if (!strcmp(cmd, "events")) {
		bool stats = false;
		const char *interval = "5s";
		const struct opt opts[] = { { "stats", 0, O_FLAG, &stats }, { "interval", 0, O_STR, &interval },
					    { NULL, 0, 0, NULL } };
		unsigned ms;
		if ((i = parse_opts(argc, argv, i, opts, cmd, err)) < 0 || need_id(argc, argv, i, cmd, err) < 0)
			return -EINVAL;
		if (parse_duration_ms(interval, &ms) < 0)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "events: --interval: invalid duration '%s'",
					     interval);
		return oci_print_events(g, argv[i], stats, ms, err);
	}
	if (!strcmp(cmd, "features"))
		return oci_print_features(err);
	if (!strcmp(cmd, "spec")) {
		const char *bundle = NULL;
		bool rootless = false;
		const struct opt opts[] = { { "bundle", 'b', O_STR, &bundle }, { "rootless", 0, O_FLAG, &rootless },
					    { NULL, 0, 0, NULL } };
		if ((i = parse_opts(argc, argv, i, opts, cmd, err)) < 0)
			return -EINVAL;
		return oci_write_spec(bundle, rootless, err);
	}
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	/* runc exits 1 here; callers such as podman probe commands this way. */
	return cap_errf(err, 0, "oci: unknown command '%s' (try --help)", cmd);
}

int cmd_oci(int argc, char **argv, cap_err *err)
{
	struct oci_opts g = { .root = OCI_DEFAULT_ROOT, .log_format = "text" };
	bool version = false, help = false;
	const char *rootless = NULL, *criu = NULL;
	const struct opt opts[] = {
		{ "root", 0, O_STR, &g.root }, { "log", 'l', O_STR, &g.log },
		{ "log-format", 0, O_STR, &g.log_format }, { "debug", 0, O_FLAG, &g.debug },
		{ "systemd-cgroup", 0, O_FLAG, &g.systemd_cgroup }, { "rootless", 0, O_STR, &rootless },
		{ "criu", 0, O_STR, &criu }, { "version", 'v', O_FLAG, &version }, { "help", 'h', O_FLAG, &help },
		{ NULL, 0, 0, NULL },
	};
	/* --rootless takes an optional value; normalise the bare form. */
	for (int k = 1; k < argc && argv[k][0] == '-'; k++)
		if (!strcmp(argv[k], "--rootless") && (k + 1 >= argc || (strcmp(argv[k + 1], "true") &&
		    strcmp(argv[k + 1], "false") && strcmp(argv[k + 1], "auto"))))
			argv[k] = "--rootless=true";
	int i = parse_opts(argc, argv, 1, opts, "oci", err);
	int r;
	if (i < 0) {
		r = -EINVAL;
		goto out;
	}
	if (g.debug)
		cap_log_set_level(CAP_LOG_DEBUG);
	if (version) {
		printf("capsule-runtime version %s\nspec: 1.0.2\n", CAPSULE_VERSION);
		return 0;
	}
	if (help || i >= argc) {
		usage(help ? stdout : stderr);
		return help ? 0 : CAP_EXIT_USAGE;
	}
	if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
		usage(stdout);
		return 0;
	}
	struct oci_runtime rt = { .root = g.root, .systemd_cgroup = g.systemd_cgroup };
	r = dispatch(&rt, argc, argv, i, err);
	if (help_asked) {
		cap_err_clear(err);
		usage(stdout);
		return 0;
	}
out:
	if (r < 0 || err->set)
		log_error(&g, err);
	return r < 0 ? -1 : r;
}
