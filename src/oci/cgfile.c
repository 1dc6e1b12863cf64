#include "cgfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cg_write(const char *dir, const char *file, const char *val, cap_err *err)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cap_errf(err, errno, "cgroup: cannot open %s", p);
	ssize_t n = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	if (n < 0)
		return cap_errf(err, e, "cgroup: cannot write '%s' to %s", val, p);
	return 0;
}

int cg_writef(const char *dir, const char *file, cap_err *err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return cg_write(dir, file, buf, err);
}

int cg_write_hugetlb(const char *dir, const struct oci_resources *r, const char *suffix, cap_err *err)
{
	for (size_t i = 0; i < r->n_huge; i++) {
		char f[64];
		snprintf(f, sizeof(f), "hugetlb.%s.%s", r->huge[i].size, suffix);
		int ret = cg_writef(dir, f, err, "%llu", (unsigned long long)r->huge[i].limit);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int cg_read(const char *dir, const char *file, char *buf, size_t sz)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sz - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = 0;
	return (int)n;
}

bool cg_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	if (!n)
		return false;
	for (const char *p = list; (p = strstr(p, item)); p += n)
		if ((p == list || strchr(", \n", p[-1])) && (p[n] == 0 || strchr(", \n", p[n])))
			return true;
	return false;
}
