/* The runtime commands (runc's command-line contract); src/cli/oci.c parses arguments. */
#ifndef CAPSULE_OCI_LIFECYCLE_H
#define CAPSULE_OCI_LIFECYCLE_H

#include "container.h"

struct oci_create_args {
	const char *id, *bundle, *pid_file, *console_socket;
	int preserve_fds;
	bool no_pivot, no_new_keyring, detach;
};

struct oci_exec_args {
	const char *id, *process_file, *pid_file, *console_socket, *cwd, *user;
	const char **env; size_t n_env;
	const char **caps; size_t n_caps;
	const char **args; size_t n_args;
	bool detach, tty, no_new_privs;
	int preserve_fds;
};

/* Each returns the exit code to use (0 ok), or a negative errno with err filled. */
/* sealed.c: re-exec from a sealed memfd copy of our binary unless already; returns only
 * when already sealed (0) or when that is impossible (-errno; the caller goes on). */
int oci_reexec_sealed(void);

/* Write pid to path (NULL: nothing) atomically, via a temporary file and rename. */
int oci_write_pid_file(const char *path, pid_t pid, cap_err *err);
/* The signals run and exec forward to the container's process (blocked while they wait). */
void oci_forward_mask(sigset_t *mask);

int oci_cmd_create(const struct oci_opts *o, const struct oci_create_args *a, cap_err *err);
int oci_cmd_run(const struct oci_opts *o, const struct oci_create_args *a, cap_err *err);
int oci_cmd_start(const struct oci_opts *o, const char *id, cap_err *err);
int oci_cmd_state(const struct oci_opts *o, const char *id, cap_err *err);
int oci_cmd_kill(const struct oci_opts *o, const char *id, const char *sig, bool all, cap_err *err);
int oci_cmd_delete(const struct oci_opts *o, const char *id, bool force, cap_err *err);
int oci_cmd_exec(const struct oci_opts *o, const struct oci_exec_args *a, cap_err *err);
int oci_cmd_list(const struct oci_opts *o, bool json, bool quiet, cap_err *err);
int oci_cmd_ps(const struct oci_opts *o, const char *id, bool json, cap_err *err);
int oci_cmd_pause(const struct oci_opts *o, const char *id, bool pause, cap_err *err);
int oci_cmd_update(const struct oci_opts *o, const char *id, json_t *resources, cap_err *err);
int oci_cmd_features(cap_err *err);
int oci_cmd_spec(const char *bundle, bool rootless, cap_err *err);

#endif
