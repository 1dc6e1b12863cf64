/* Run the runtime from a sealed memfd copy of its binary (as runc and crun do).
 *
 * The container init and exec's child are the runtime binary until they exec the container's
 * program, inside the container's namespaces. A process in the container with enough
 * privilege (CAP_SYS_PTRACE) can open /proc/<pid>/exe and, once nothing runs the file, write
 * the host's binary (CVE-2019-5736). Non-dumpable covers the rest; a sealed copy leaves
 * nothing on the host to reach. */
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/log.h"

#define SEALED_ENV "_CAPSULE_OCI_SEALED"
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* Our own argv, from /proc/self/cmdline (the caller's may be shifted). */
static char **own_argv(char *buf, size_t sz)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t n = 0;
	ssize_t r;
	while (n < sz - 1 && (r = read(fd, buf + n, sz - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (n == 0 || n >= sz - 1)
		return NULL;
	buf[n] = 0;
	size_t argc = 0;
	for (size_t i = 0; i < n; i++)
		argc += buf[i] == 0;
	char **argv = calloc(argc + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n && k < argc; i += strlen(buf + i) + 1)
		argv[k++] = buf + i;
	return argv;
}

int oci_reexec_sealed(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && (seals & SEALS) == SEALS) {
		close(fd);
		unsetenv(SEALED_ENV);
		return 0;
	}
	/* Re-exec'd but not sealed (a kernel that hides it): do not loop. */
	if (getenv(SEALED_ENV)) {
		close(fd);
		unsetenv(SEALED_ENV);
		return -ENOTSUP;
	}
	int r = -EIO;
	char **argv = NULL;
	static char cmdline[65536];
	int mfd = memfd_create("capsule", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct stat st;
	if (mfd < 0 || fstat(fd, &st) < 0) {
		r = -(errno ? errno : EIO);
		goto out;
	}
	for (off_t left = st.st_size; left > 0;) {
		ssize_t n = sendfile(mfd, fd, NULL, (size_t)left);
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out;
		}
		left -= n;
	}
	errno = 0;
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0 || !(argv = own_argv(cmdline, sizeof(cmdline)))) {
		r = -(errno ? errno : EIO);
		goto out;
	}
	setenv(SEALED_ENV, "1", 1);
	fexecve(mfd, argv, environ);
	r = -(errno ? errno : EIO);
	unsetenv(SEALED_ENV);
out:
	free(argv);
	if (mfd >= 0)
		close(mfd);
	close(fd);
	return r;
}
