/* `capsule run --env-file F`: docker's env-file format.
 *
 *   KEY=VALUE   the value is everything after the first '=', verbatim (no quotes are removed,
 *               trailing blanks stay), as docker and podman read it
 *   KEY         takes the value from the caller's environment; skipped when it is unset
 *   # ...       a comment (after leading blanks); blank lines are skipped
 *
 * Leading blanks of a line are dropped; a key with a blank in it, an empty key ("=x"), a NUL
 * byte or bytes that are not UTF-8 make the file bad: one error "F:LINE: reason". */
#ifndef CAPSULE_ENGINE_ENVFILE_H
#define CAPSULE_ENGINE_ENVFILE_H

#include <stddef.h>

#include "../lib/error.h"

/* A list of "KEY=VALUE" strings (malloc'd, as the array): envlist_free. */
struct envlist {
	char **v;
	size_t n, cap;
};

/* Parse text (len bytes, the file named name in messages) and append its entries to out. */
int engine_env_parse(const char *name, const char *text, size_t len, struct envlist *out, cap_err *err);
/* Read the file path and append its entries to out. */
int engine_env_file_read(const char *path, struct envlist *out, cap_err *err);
/* Append a copy of s. */
int envlist_add(struct envlist *l, const char *s, size_t len);
void envlist_free(struct envlist *l);

#endif
