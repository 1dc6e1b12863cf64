// fuzz-sources: src/image/challenge.c
/* libFuzzer target: WWW-Authenticate parsing (src/image/challenge.c), a header any registry, or
 * anything between us and it, writes. A parse either refuses (-EINVAL) or gives a known scheme
 * whose every field is NUL-terminated inside its buffer and free of control characters (they
 * end up in a URL and in messages). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/image/challenge.h"

static void check_field(const char *f, size_t cap)
{
	size_t n = strnlen(f, cap);
	if (n >= cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)f[i] < ' ' && f[i] != '\t')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_challenge c;
	memset(&c, 0x5a, sizeof(c));
	int r = auth_challenge_parse((const char *)data, size, &c);
	if (r == -EINVAL)
		return 0;
	if (r != 0)
		abort();
	if (c.scheme != AUTH_SCHEME_BASIC && c.scheme != AUTH_SCHEME_BEARER && c.scheme != AUTH_SCHEME_OTHER)
		abort();
	check_field(c.realm, sizeof(c.realm));
	check_field(c.service, sizeof(c.service));
	check_field(c.scope, sizeof(c.scope));
	check_field(c.error, sizeof(c.error));
	check_field(c.other, sizeof(c.other));
	if (c.scheme == AUTH_SCHEME_OTHER && !c.other[0])
		abort();
	return 0;
}
