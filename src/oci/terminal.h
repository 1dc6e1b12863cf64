/* The console socket and the pty relay. */
#ifndef CAPSULE_OCI_TERMINAL_H
#define CAPSULE_OCI_TERMINAL_H

#include <signal.h>
#include <sys/types.h>

#include "spec.h"

int oci_console_connect(const char *path, cap_err *err);
/* Open a pty in the current mount namespace, send its master over sock, make the slave
 * our controlling terminal and stdio. */
int oci_terminal_setup(int sock, const struct oci_process *p, cap_err *err);
int oci_send_fd(int sock, int fd, const char *name);
int oci_recv_fd(int sock);
int oci_console_pair(int *ours, int *theirs, cap_err *err);
/* Wait for pid (a child of ours), forwarding the signals in mask (blocked by the caller)
 * to it, and relaying stdio to the pty master when master >= 0. */
int oci_wait_forward(pid_t pid, const sigset_t *mask, int master, int *status);

#endif
