/* A cgroupsPath the container shares with processes that are not its own (the cgroup held some
 * when the container was created: a valid config, e.g. several containers placed in one
 * cgroup). create warns; kill --all and delete --force then signal only the container's
 * processes in it (the init and whatever shares the namespaces recorded at create that are not
 * the runtime's own: its pid namespace, else its mount namespace), and delete leaves the cgroup,
 * which is not the container's to remove. runc also spares them (it kills only the init when
 * the container has its own pid namespace) and warns at create. */
#ifndef CAPSULE_OCI_CGSHARED_H
#define CAPSULE_OCI_CGSHARED_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "cgroup.h"

/* Processes in the container's cgroup of a hierarchy create did not make (made: cg_create's
 * mask), before the init joins it. */
size_t oci_cg_foreign(const struct cg_layout *l, const char *path, unsigned made);

/* Signal the processes of the cgroup that belong to the container: init (if non-zero), and
 * those in the pid or mount namespace recorded in state["namespaces"] when that is not the
 * runtime's own. */
void oci_cg_kill_own(const struct cg_layout *l, const char *path, json_t *state, pid_t init, int sig);

#endif
