#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fsutil.h"

static int openat2_flags(int dirfd, const char *path, int flags, int mode, unsigned long long resolve)
{
	struct open_how how = {
		.flags = (unsigned long long)flags | O_CLOEXEC,
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? (unsigned long long)mode : 0,
		.resolve = resolve,
	};
	int fd;
	do
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : fd;
}

int open_in_root(int rootfd, const char *path, int flags, int mode)
{
	return openat2_flags(rootfd, *path ? path : ".", flags, mode,
			     RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
}

int open_beneath(int dirfd, const char *path, int flags, int mode)
{
	return openat2_flags(dirfd, *path ? path : ".", flags, mode,
			     RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
}

DIR *dir_open_at(int at)
{
	int fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

int empty_dir_at(int at)
{
	DIR *d = dir_open_at(at);
	if (!d)
		return -errno;
	int fd = dirfd(d);
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int rr = remove_tree_at(fd, de->d_name);
		if (rr < 0 && !r)
			r = rr;
	}
	closedir(d);
	return r;
}

int remove_tree_at(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		int r = empty_dir_at(fd);
		close(fd);
		if (r < 0)
			return r;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int remove_tree(const char *path)
{
	return remove_tree_at(AT_FDCWD, path);
}

int normalize_rel_path(const char *in, char *out, size_t sz)
{
	size_t n = 0;
	const char *p = in;

	while (*p) {
		while (*p == '/')
			p++;
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t len = (size_t)(p - s);
		if (len == 0 || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.')
			return -EINVAL;
		if (n + (n ? 1 : 0) + len + 1 > sz)
			return -ENAMETOOLONG;
		if (n)
			out[n++] = '/';
		memcpy(out + n, s, len);
		n += len;
	}
	if (sz == 0)
		return -ENAMETOOLONG;
	out[n] = 0;
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int read_fd_all(int fd, size_t max, char **out, size_t *len)
{
	struct stat st;
	int e = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL
		: (size_t)st.st_size > max ? -EFBIG : 0;
	if (e < 0)
		return e;
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len)
{
	/* O_NONBLOCK: a FIFO in the way is refused (not a regular file), never waited on */
	int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = read_fd_all(fd, max, out, len);
	close(fd);
	return r;
}
