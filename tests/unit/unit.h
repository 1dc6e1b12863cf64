/* Minimal unit-test harness. Each CHECK prints nothing on success; each TEST ends with one
 * "PASS: name" or "FAIL: name: file:line: expr" line, which tests/run counts. */
#ifndef CAPSULE_TESTS_UNIT_H
#define CAPSULE_TESTS_UNIT_H

#include <stdio.h>
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

#define UNIT_EXIT() return unit_failed_total ? 1 : 0

#endif
