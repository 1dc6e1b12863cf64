/* What a build step changed (an overlay upper directory) as an uncompressed OCI layer tar. */
#ifndef CAPSULE_ENGINE_DIFF_H
#define CAPSULE_ENGINE_DIFF_H

#include <stddef.h>

#include "../lib/error.h"

/* Write the tar of upper to out; *entries (may be NULL) gets how many entries it has. */
int engine_diff_to_tar(const char *upper, int out, size_t *entries, cap_err *err);

#endif
