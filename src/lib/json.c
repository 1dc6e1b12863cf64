#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int wrong(cap_err *err, const char *where, const char *key, const char *what)
{
	return cap_errf(err, 0, "%s%s%s: must be %s", where, *where ? "." : "", key, what);
}

int cap_json_str(json_t *obj, const char *key, const char *where, const char **out, cap_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return wrong(err, where, key, "a string");
	*out = json_string_value(v);
	return 1;
}

int cap_json_int(json_t *obj, const char *key, const char *where, int64_t *out, cap_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return wrong(err, where, key, "an integer");
	*out = json_integer_value(v);
	return 1;
}

int cap_json_uint(json_t *obj, const char *key, const char *where, uint64_t *out, cap_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return wrong(err, where, key, "a non-negative integer");
	*out = (uint64_t)json_integer_value(v);
	return 1;
}

int cap_json_bool(json_t *obj, const char *key, const char *where, bool *out, cap_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return wrong(err, where, key, "true or false");
	*out = json_is_true(v);
	return 1;
}

int cap_json_obj(json_t *obj, const char *key, const char *where, json_t **out, cap_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return wrong(err, where, key, "an object");
	*out = v;
	return 1;
}

int cap_json_arr(json_t *obj, const char *key, const char *where, json_t **out, cap_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return wrong(err, where, key, "an array");
	*out = v;
	return 1;
}

int cap_json_strv(json_t *obj, const char *key, const char *where, const char ***out, size_t *n,
		  cap_err *err)
{
	json_t *a = NULL, *v;
	size_t i;
	int r = cap_json_arr(obj, key, where, &a, err);
	if (r <= 0)
		return r;
	const char **vec = calloc(json_array_size(a) + 1, sizeof(*vec));
	if (!vec)
		return cap_errf(err, ENOMEM, "%s.%s", where, key);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			free(vec);
			return cap_errf(err, 0, "%s%s%s[%zu]: must be a string", where, *where ? "." : "",
					key, i);
		}
		vec[i] = json_string_value(v);
	}
	*out = vec;
	if (n)
		*n = json_array_size(a);
	return 1;
}

#define JSON_FILE_MAX (64u << 20)

static void load_error(json_error_t *je, const char *path, int e)
{
	memset(je, 0, sizeof(*je));
	je->line = -1;
	snprintf(je->source, sizeof(je->source), "%s", path);
	snprintf(je->text, sizeof(je->text), "%s", strerror(e));
}

json_t *cap_json_load_at(int dirfd, const char *path, size_t flags, json_error_t *je)
{
	struct stat st;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		load_error(je, path, errno);
		return NULL;
	}
	/* One byte more than the size: a read that fills it means the file grew (or has no
	 * size, like /proc files) and the buffer doubles. */
	size_t cap = fstat(fd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size < JSON_FILE_MAX ?
		     (size_t)st.st_size + 1 : 4096, len = 0;
	char *buf = malloc(cap);
	int e = ENOMEM;
	while (buf) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			if (cap >= JSON_FILE_MAX) {
				e = EFBIG;
				goto fail;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
	}
	if (!buf)
		goto fail;
	close(fd);
	json_t *j = json_loadb(buf, len, flags, je);
	free(buf);
	return j;
fail:
	free(buf);
	close(fd);
	load_error(je, path, e);
	return NULL;
}

json_t *cap_json_load_path(const char *path, size_t flags, json_error_t *je)
{
	return cap_json_load_at(AT_FDCWD, path, flags, je);
}
