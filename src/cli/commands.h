/* The handlers of the command table (table.c), grouped by noun; each file in src/cli/ holds
 * one noun's (or one command's) handlers. A handler gets the parsed options and positionals
 * (cli.h) and returns an exit code, or -1 with err filled. */
#ifndef CAPSULE_CLI_COMMANDS_H
#define CAPSULE_CLI_COMMANDS_H

#include "cli.h"

/* vm.c */
cli_handler cli_vm_run, cli_vm_extract_kernel, cli_vm_migrate, cli_vm_receive;
/* vm_ls.c, vm_pause.c, vm_resume.c, vm_status.c, vm_stop.c: running VMs, through their API sockets */
cli_handler cli_vm_ls, cli_vm_pause, cli_vm_resume, cli_vm_status, cli_vm_stop;
/* vm_snapshot.c */
cli_handler cli_vm_restore, cli_vm_snapshot_merge;
/* vm_snapshot_take.c: a snapshot of a running VM through its API */
cli_handler cli_vm_snapshot;
/* vm_seccomp_filters.c */
cli_handler cli_vm_seccomp_filters;

/* oci.c: the runc-compatible runtime */
cli_handler cli_oci_create, cli_oci_start, cli_oci_run, cli_oci_state, cli_oci_kill, cli_oci_delete,
	cli_oci_exec, cli_oci_list, cli_oci_ps, cli_oci_pause, cli_oci_resume, cli_oci_update, cli_oci_events,
	cli_oci_features, cli_oci_spec;
int oci_prepare(const struct cli_args *a, cap_err *err);
void oci_finish(const struct cli_args *a, int rc, const cap_err *err);

/* image.c: the local image store */
cli_handler cli_image_build, cli_image_import, cli_image_export, cli_image_pull, cli_image_push, cli_image_unpack, cli_image_ls,
	cli_image_inspect, cli_image_rm,
	cli_image_tag, cli_image_prune;
/* login.c: registry credentials in the auth file */
cli_handler cli_image_login, cli_image_logout;
struct registry_opts;
/* registry_opts.c: --tls-verify and --authfile of the commands that reach a registry */
int cli_registry_opts(const struct cli_args *a, struct registry_opts *o, cap_err *err);
/* The store root the command names (--root, $CAPSULE_STORE_ROOT or the default). */
const char *cli_store_root(void);

/* store.c: which store the engine commands use (--root, global or the noun's) */
struct store;
void cli_set_store_root(const char *root);
int cli_store_prepare(const struct cli_args *a, cap_err *err);
int cli_store_open(struct store *s, bool exclusive, cap_err *err);

/* container.c: the engine's managed containers */
cli_handler cli_container_run, cli_container_ps, cli_container_logs, cli_container_exec, cli_container_stop,
	cli_container_kill, cli_container_rm, cli_container_inspect, cli_container_wait, cli_container_net_hook;

/* completion.c */
cli_handler cli_completion;

#endif
