/* Capsule's OCI runtime as a library: the one header a caller (the CLI in src/cli/oci.c,
 * the container engine) includes.
 *
 * Conventions:
 *  - Every function returns 0 (or, where said, an exit code >= 0) on success and a negative
 *    errno on failure, with err filled with one sentence (src/lib/error.h). Nothing here
 *    prints: results come back as data; diagnostics that are not errors (a failing
 *    poststart hook, an OOM kill seen by run) go to the log (src/lib/log.h, stderr).
 *  - A container is named by its id under rt->root (the state directory, default
 *    /run/capsule): every call takes the state lock for the time it needs it, so several
 *    processes may drive the same containers, as runc's command-line contract requires.
 *  - Strings and json_t the caller passes are borrowed for the duration of the call.
 *    Out-parameters are the caller's to free with the function named beside them.
 *  - The process that calls oci_create is the init's parent until it exits: oci_wait then
 *    also gets the init's exit status; in another process it only sees that it exited.
 *  - A detached oci_exec's process is the caller's child too: reap it (waitpid). The kernel
 *    lets a container's init finish dying only once every process of its pid namespace has
 *    been reaped, so oci_wait/oci_delete of a killed container wait for that.
 *  - Signals: oci_run and oci_exec (not detached) block the signals they forward to the
 *    container's process while they wait, and restore the caller's mask before returning.
 */
#ifndef CAPSULE_OCI_OCI_H
#define CAPSULE_OCI_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#include "../lib/error.h"

#define OCI_DEFAULT_ROOT "/run/capsule"
/* The runtime-spec version this runtime writes (state, `spec`, `features`). */
#define OCI_SPEC_VERSION "1.0.2"

/* What the library needs from its caller: where the state lives and how cgroupsPath reads. */
struct oci_runtime {
	const char *root;       /* state root; NULL = OCI_DEFAULT_ROOT */
	bool systemd_cgroup;    /* cgroupsPath is "slice:prefix:name" (mapped to cgroupfs; no D-Bus) */
};

enum oci_status { ST_CREATING, ST_CREATED, ST_RUNNING, ST_PAUSED, ST_STOPPED };
const char *oci_status_name(enum oci_status s);

/* ---- the life cycle ---- */

struct oci_create_args {
	const char *id;
	const char *bundle;           /* directory holding config.json; NULL = "." */
	const char *pid_file;         /* NULL = none; written atomically */
	const char *console_socket;   /* AF_UNIX path that receives the pty master, or NULL */
	int preserve_fds;             /* fds 3 .. 3+N-1 are passed to the process */
	bool no_pivot, no_new_keyring;
	bool detach;                  /* oci_run: return once the process runs */
};

/* Create the container: its init is left blocked before the program (status "created").
 * *pid (may be NULL) gets the init's pid. */
int oci_create(const struct oci_runtime *rt, const struct oci_create_args *a, pid_t *pid, cap_err *err);
/* Run the program of a created container; returns once it has exec'd (poststart ran). */
int oci_start(const struct oci_runtime *rt, const char *id, cap_err *err);
/* create + start in one step. detach: return 0 once it runs. Otherwise wait for it
 * (forwarding signals; without --console-socket a pty is relayed to our stdio), delete it,
 * and return its exit code (128+N if killed by signal N). */
int oci_run(const struct oci_runtime *rt, const struct oci_create_args *a, cap_err *err);
/* Send sig to the init (all: to every process in the container's cgroup). */
int oci_kill(const struct oci_runtime *rt, const char *id, int sig, bool all, cap_err *err);
/* Remove a stopped container (force: kill it first, whatever its state; an unknown id
 * is then no error). Runs the poststop hooks. */
int oci_delete(const struct oci_runtime *rt, const char *id, bool force, cap_err *err);
/* Wait until the init has exited. *exit_code (may be NULL): its exit code (128+N when
 * killed by signal N) when the caller is its parent (it called oci_create), else -1. */
int oci_wait(const struct oci_runtime *rt, const char *id, int *exit_code, cap_err *err);
int oci_pause(const struct oci_runtime *rt, const char *id, cap_err *err);
int oci_resume(const struct oci_runtime *rt, const char *id, cap_err *err);
/* Apply a linux.resources object to the running container's cgroup. */
int oci_update(const struct oci_runtime *rt, const char *id, json_t *resources, cap_err *err);

/* ---- what a container is ---- */

/* The runtime-spec state of one container. json is the state object (ociVersion, id,
 * status, pid, bundle, rootfs, created, owner, annotations) and owns the strings the other
 * fields point at. Free with oci_container_state_free. */
struct oci_container_state {
	json_t *json;
	const char *id, *bundle, *created;
	enum oci_status status;
	pid_t pid;                    /* 0 once stopped */
};
int oci_state_get(const struct oci_runtime *rt, const char *id, struct oci_container_state *out,
		  cap_err *err);
void oci_container_state_free(struct oci_container_state *s);

/* Every container under rt->root, in directory order (unreadable ones are skipped).
 * Free with oci_list_free. */
int oci_list(const struct oci_runtime *rt, struct oci_container_state **out, size_t *n, cap_err *err);
void oci_list_free(struct oci_container_state *v, size_t n);

/* The pids in the container's cgroup and its sub-cgroups (malloc'd; free()). */
int oci_ps(const struct oci_runtime *rt, const char *id, pid_t **pids, size_t *n, cap_err *err);

/* ---- another process in a running container ---- */

struct oci_exec_args {
	const char *id;
	/* The process: a runtime-spec process object (process, borrowed), or the JSON file
	 * process_file, or else the container's own process (as recorded at create) with args
	 * and the overrides below. */
	json_t *process;
	const char *process_file;
	const char **args; size_t n_args;
	const char *cwd;
	const char *user;             /* "UID[:GID]" */
	const char **env; size_t n_env;     /* added to the environment */
	const char **caps; size_t n_caps;   /* added to bounding, effective, permitted, ambient */
	bool tty, no_new_privs;
	const char *pid_file, *console_socket;
	int preserve_fds;
	bool detach;                  /* return once the process runs */
};

/* Run a process in the container. *pid (may be NULL) gets its pid. detach: returns 0 once
 * it has exec'd; otherwise waits and returns its exit code (128+N when killed by N). */
int oci_exec(const struct oci_runtime *rt, const struct oci_exec_args *a, pid_t *pid, cap_err *err);

/* ---- resource usage ---- */

/* The container's cgroup statistics in runc's shape (the "data" of `runc events --stats`:
 * cpu, memory, pids, blkio, hugetlb), read from cgroup v1 or v2. *data is the caller's
 * (json_decref). */
int oci_stats(const struct oci_runtime *rt, const char *id, json_t **data, cap_err *err);

/* Events as `runc events` has them: {"type":"stats","id":ID,"data":{...}} every
 * interval_ms and {"type":"oom","id":ID} when the OOM killer struck, until the container
 * stops or cb returns non-zero (which is then returned). cb borrows ev. */
typedef int (*oci_event_cb)(json_t *ev, void *arg);
int oci_events(const struct oci_runtime *rt, const char *id, unsigned interval_ms, oci_event_cb cb,
	       void *arg, cap_err *err);

/* ---- the runtime itself ---- */

/* What this runtime supports (the runtime-spec "features" object; json_decref it). */
json_t *oci_features(void);

/* Re-exec the calling program from a sealed memfd copy of its binary unless it already runs
 * from one (CVE-2019-5736; see sealed.c). Returns only when already sealed (0) or when that
 * is impossible (-errno; the caller goes on). A runtime binary calls it before exec;
 * oci_create and oci_run call it themselves when the container needs it. */
int oci_reexec_sealed(void);

/* Names and numbers the command line takes. */
int oci_signal_number(const char *s);         /* "KILL", "SIGKILL", "9", "RTMIN+1" -> n; -1 if unknown */
/* An integer (-1 allowed: unlimited), or with units (512m, 1.5g, 64KiB) as runc's
 * RAMInBytes: binary multiples. 0 or -EINVAL on junk or overflow. */
int oci_parse_bytes(const char *s, bool units, long long *out);

#endif
