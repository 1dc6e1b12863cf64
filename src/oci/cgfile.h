/* Kernel control files: one value written to, or read from, a file in a directory (a
 * cgroup's, or /proc/PID for oom_score_adj). Messages name the file. */
#ifndef CAPSULE_OCI_CGFILE_H
#define CAPSULE_OCI_CGFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/error.h"
#include "spec.h"

int cg_write(const char *dir, const char *file, const char *val, cap_err *err);
int cg_writef(const char *dir, const char *file, cap_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Up to sz-1 bytes, NUL-terminated; the length or -errno. */
int cg_read(const char *dir, const char *file, char *buf, size_t sz);
/* Is `item` one of the words of `list` (separated by ',', ' ' or newlines)? e.g. a
 * hierarchy's "cpu,cpuacct" or a v2 cgroup.controllers line. */
bool cg_list_has(const char *list, const char *item);
/* hugepageLimits: hugetlb.<size>.<suffix> per entry ("limit_in_bytes" on v1, "max" on v2). */
int cg_write_hugetlb(const char *dir, const struct oci_resources *r, const char *suffix, cap_err *err);

#endif
