/* What stop, kill, rm and wait do to an instance, whoever started it. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../oci/oci.h"
#include "run.h"

static struct oci_runtime runtime_of(const struct store *s, char *root, size_t sz)
{
	instance_oci_root(s, root, sz);
	return (struct oci_runtime){ .root = root };
}

static bool alive(const struct store *s, const struct instance *in)
{
	int code;
	enum instance_state st = instance_status(s, in, &code);
	return st == INST_RUNNING || st == INST_PAUSED;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Poll until the container is not alive and its record is final (the monitor wrote it), or the
 * deadline passes. */
static bool wait_gone(const struct store *s, struct instance *in, double deadline)
{
	while (now_s() < deadline) {
		struct instance fresh;
		cap_err ignored = { 0 };
		if (instance_find(s, in->id, &fresh, &ignored) < 0)
			return true; /* --rm: it removed itself */
		bool done = !alive(s, &fresh) && instance_str(&fresh, "status") &&
			    strcmp(instance_str(&fresh, "status"), "running");
		if (done || !alive(s, &fresh)) {
			json_decref(in->rec);
			in->rec = fresh.rec;
			if (done)
				return true;
		} else {
			instance_free(&fresh);
		}
		usleep(20000);
	}
	return !alive(s, in);
}

int engine_kill(struct store *s, struct instance *in, int sig, cap_err *err)
{
	char root[PATH_MAX];
	struct oci_runtime rt = runtime_of(s, root, sizeof(root));
	if (!alive(s, in))
		return cap_errf(err, 0, "container %s: not running", instance_str(in, "name"));
	return oci_kill(&rt, in->id, sig, false, err);
}

int engine_stop(struct store *s, struct instance *in, int timeout_s, cap_err *err)
{
	char root[PATH_MAX];
	struct oci_runtime rt = runtime_of(s, root, sizeof(root));
	if (!alive(s, in))
		return 0; /* stopping a stopped container is no error (docker, podman) */
	cap_err ignored = { 0 };
	oci_kill(&rt, in->id, SIGTERM, false, &ignored);
	if (wait_gone(s, in, now_s() + timeout_s))
		return 0;
	oci_kill(&rt, in->id, SIGKILL, true, &ignored);
	if (wait_gone(s, in, now_s() + 10))
		return 0;
	return cap_errf(err, 0, "container %s: still running 10 s after SIGKILL", instance_str(in, "name"));
}

int engine_wait(struct store *s, struct instance *in, int *exit_code, cap_err *err)
{
	(void)err;
	while (!wait_gone(s, in, now_s() + 3600))
		;
	int code;
	instance_status(s, in, &code);
	*exit_code = code;
	return 0;
}

int engine_rm(struct store *s, struct instance *in, bool force, cap_err *err)
{
	char root[PATH_MAX];
	struct oci_runtime rt = runtime_of(s, root, sizeof(root));
	if (alive(s, in)) {
		if (!force)
			return cap_errf(err, 0, "container %s: running (stop it first, or rm -f)", instance_str(in, "name"));
		cap_err ignored = { 0 };
		oci_kill(&rt, in->id, SIGKILL, true, &ignored);
		wait_gone(s, in, now_s() + 10);
	}
	cap_err ignored = { 0 };
	oci_delete(&rt, in->id, true, &ignored);
	engine_net_cleanup(s, in);
	engine_unmount_root(in);
	return instance_remove(s, in, err);
}
