/* capsule vm stop NAME: end a running VM's process as a signal would (SIGTERM: the VMM stops the
 * VM, removes its socket and exits) and wait until it is gone. The pid comes from the API
 * socket's peer credentials and is held as a pidfd, so a recycled pid is never signalled. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "vm_api.h"

#define STOP_WAIT_MS 10000

int cli_vm_stop(const struct cli_args *a, cap_err *err)
{
	struct api_reply r;
	const char *name = a->argv[0];
	if (vm_api_do("vm stop", name, "GET", "/", NULL, &r, err) < 0)
		return -1;
	pid_t pid = r.pid;
	api_reply_free(&r);
	if (pid <= 0)
		return cap_errf(err, 0, "vm stop %s: the VMM's process is unknown (no peer credentials)", name);
	int pfd = pidfd_open(pid, 0);
	if (pfd < 0)
		return errno == ESRCH ? 0 : cap_errf(err, errno, "vm stop %s: process %d", name, (int)pid);
	if (pidfd_send_signal(pfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH) {
		int e = errno;
		close(pfd);
		return cap_errf(err, e, "vm stop %s: signalling process %d", name, (int)pid);
	}
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	int n;
	do
		n = poll(&p, 1, STOP_WAIT_MS);
	while (n < 0 && errno == EINTR);
	close(pfd);
	if (n == 0)
		return cap_errf(err, 0, "vm stop %s: process %d did not exit within %d s", name, (int)pid,
				STOP_WAIT_MS / 1000);
	return 0;
}
