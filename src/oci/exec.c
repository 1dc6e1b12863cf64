/* exec: another process in a running container, confined as the container is. */
#include "lifecycle.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/json.h"
#include "container.h"
#include "ctx.h"
#include "seccomp.h"
#include "terminal.h"

/* exec's process: --process FILE, or the container's config.json process with the
 * command-line overrides. */
static int exec_process(const struct oci_exec_args *a, struct oci_spec *spec, json_t **pj_out,
			struct oci_process *p, cap_err *err)
{
	json_t *pj;
	if (a->process) {
		pj = json_incref(a->process);
	} else if (a->process_file) {
		json_error_t je;
		pj = cap_json_load_path(a->process_file, 0, &je);
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
	int r = oci_process_parse(pj, "process", p, err);
	if (r < 0) {
		cap_err_prefix(err, "exec");
		json_decref(pj);
		return r;
	}
	*pj_out = pj;
	return 0;
}

int oci_exec(const struct oci_runtime *rt, const struct oci_exec_args *a, pid_t *pidp, cap_err *err)
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
	r = oci_state_load(oci_root(rt), a->id, &st, err);
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
	c.id = a->id;
	c.spec = &spec;
	c.proc = &proc;
	c.exec_mode = true;
	c.preserve_fds = a->preserve_fds;
	if ((r = oci_seccomp_compile(&c, err)) < 0)
		goto out;
	if ((r = cg_layout_detect(&c.cg, err)) < 0)
		goto out;
	cg_layout_bind(&c.cg, json_object_get(st.j, "cgroupBases"));
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
	pid = oci_exec_spawn(&c, st.pid, st.starttime, json_object_get(st.j, "namespaces"), err);
	if (pid < 0) {
		r = pid;
		goto out;
	}
	if ((r = oci_write_pid_file(a->pid_file, pid, err)) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	if (pidp)
		*pidp = pid;
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
	r = oci_exit_code(status);
out:
	oci_ctx_release(&c);
	oci_process_free(&proc);
	if (pj)
		json_decref(pj);
	oci_spec_free(&spec);
	oci_state_close(&st);
	return r;
}

