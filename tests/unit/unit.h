/* Minimal unit-test harness. Each CHECK prints nothing on success; each TEST ends with one
 * "PASS: name" or "FAIL: name: file:line: expr" line, which tests/run counts. */
#ifndef CAPSULE_TESTS_UNIT_H
#define CAPSULE_TESTS_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed_total;
static int unit_cur_failed;
static const char *unit_cur_name;

#define CHECK(expr)                                                                              \
	do {                                                                                     \
		if (!(expr)) {                                                                   \
			if (!unit_cur_failed)                                                    \
				printf("FAIL: %s: %s:%d: %s\n", unit_cur_name, __FILE__, __LINE__, #expr); \
			unit_cur_failed = 1;                                                     \
		}                                                                                \
	} while (0)

#define CHECK_EQ(a, b) CHECK((a) == (b))
#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

#define RUN(fn)                                                                                  \
	do {                                                                                     \
		unit_cur_name = #fn;                                                             \
		unit_cur_failed = 0;                                                             \
		fn();                                                                            \
		if (!unit_cur_failed)                                                            \
			printf("PASS: %s\n", #fn);                                               \
		unit_failed_total += unit_cur_failed;                                            \
		fflush(stdout);                                                                  \
	} while (0)

#define SKIP(fn, why) printf("SKIP: %s: %s\n", #fn, why)

/* A file of the Debian kernel that scripts/fetch-kernel lays out in $CAPSULE_LINUX_DIR (by default
 * $CAPSULE_ROOT/build/linux; `make check` fetches it before the tests run). */
static inline const char *unit_linux_file(const char *name)
{
	static char path[4096];
	const char *dir = getenv("CAPSULE_LINUX_DIR"), *root = getenv("CAPSULE_ROOT");
	if (dir && *dir)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%s/build/linux/%s", root ? root : ".", name);
	return path;
}

/* The SKIP reason when that file is missing: fetch-kernel's own reason when its last run failed. */
static inline const char *unit_linux_missing(const char *name)
{
	static char why[4096 + 600];
	char err[512] = "", *nl;
	FILE *f = fopen(unit_linux_file(".fetch-error"), "r");
	if (f) {
		if (!fgets(err, sizeof(err), f))
			err[0] = 0;
		fclose(f);
		if ((nl = strchr(err, '\n')))
			*nl = 0;
	}
	if (err[0])
		snprintf(why, sizeof(why), "no %s: scripts/fetch-kernel failed: %s", unit_linux_file(name), err);
	else
		snprintf(why, sizeof(why), "no %s (run scripts/fetch-kernel)", unit_linux_file(name));
	return why;
}

#define UNIT_EXIT() return unit_failed_total ? 1 : 0

#endif
