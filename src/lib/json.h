/* A thin layer over jansson: typed getters that report the JSON path of what is wrong.
 *
 * Every getter takes the object, the key and the path of the object ("linux.resources")
 * so that an error reads "config.json: linux.resources.memory.limit: must be an integer".
 * Getters return 0 when the key is absent (leaving *out untouched), 1 when it was read,
 * or a negative errno with err filled. */
#ifndef CAPSULE_LIB_JSON_H
#define CAPSULE_LIB_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "error.h"

int cap_json_str(json_t *obj, const char *key, const char *where, const char **out, cap_err *err);
int cap_json_int(json_t *obj, const char *key, const char *where, int64_t *out, cap_err *err);
int cap_json_uint(json_t *obj, const char *key, const char *where, uint64_t *out, cap_err *err);
int cap_json_bool(json_t *obj, const char *key, const char *where, bool *out, cap_err *err);
/* Object or array members: *out is the borrowed reference. */
int cap_json_obj(json_t *obj, const char *key, const char *where, json_t **out, cap_err *err);
int cap_json_arr(json_t *obj, const char *key, const char *where, json_t **out, cap_err *err);

/* An array of strings as a NULL-terminated vector (strings borrowed from the JSON tree;
 * only the vector is allocated). */
int cap_json_strv(json_t *obj, const char *key, const char *where, const char ***out, size_t *n,
		  cap_err *err);

/* Read a whole file and parse it. jansson's json_loadfd reads one byte per read(); this
 * reads the file in as few calls as its size allows (one for state.json) and parses the
 * buffer. dirfd as for openat (AT_FDCWD). NULL with je filled (je->text names the errno
 * when the file could not be read). Files over 64 MiB are refused. */
json_t *cap_json_load_at(int dirfd, const char *path, size_t flags, json_error_t *je);
json_t *cap_json_load_path(const char *path, size_t flags, json_error_t *je);

#endif
