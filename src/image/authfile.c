#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authfile.h"
#include "fsutil.h"

#define AUTHFILE_MAX (1 << 20)

int authfile_path(char *buf, size_t sz, const char *given, const char *store_root)
{
	const char *env = getenv(AUTHFILE_ENV);
	int n;
	if (given && *given)
		n = snprintf(buf, sz, "%s", given);
	else if (env && *env)
		n = snprintf(buf, sz, "%s", env);
	else
		n = snprintf(buf, sz, "%s/auth.json", store_root);
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

char *authfile_encode(const char *user, const char *pass)
{
	size_t ul = strlen(user), pl = strlen(pass), n = ul + 1 + pl;
	unsigned char *raw = malloc(n + 1);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (!raw || !out) {
		free(raw);
		free(out);
		return NULL;
	}
	memcpy(raw, user, ul);
	raw[ul] = ':';
	memcpy(raw + ul + 1, pass, pl);
	EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
	OPENSSL_cleanse(raw, n);
	free(raw);
	return out;
}

/* "USER:PASSWORD" out of base64; -EINVAL for anything else. */
static int decode(const char *b64, struct reg_creds *c)
{
	size_t n = strlen(b64);
	if (n == 0 || n % 4 || n > 4 * ((sizeof(c->user) + sizeof(c->pass)) / 3))
		return -EINVAL;
	unsigned char raw[sizeof(c->user) + sizeof(c->pass) + 4];
	int m = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
	if (m < 0)
		return -EINVAL;
	m -= (b64[n - 1] == '=') + (b64[n - 2] == '=');   /* EVP_DecodeBlock counts the padding */
	unsigned char *colon = memchr(raw, ':', (size_t)m);
	int r = -EINVAL;
	if (colon && !memchr(raw, 0, (size_t)m)) {
		size_t ul = (size_t)(colon - raw), pl = (size_t)m - ul - 1;
		if (ul > 0 && ul < sizeof(c->user) && pl < sizeof(c->pass)) {
			memcpy(c->user, raw, ul);
			c->user[ul] = 0;
			memcpy(c->pass, colon + 1, pl);
			c->pass[pl] = 0;
			c->set = true;
			r = 0;
		}
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return r;
}

/* The file's JSON, {} when there is none; NULL with err filled otherwise. */
static json_t *load(const char *path, cap_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return json_object();
		cap_errf(err, errno, "auth file %s", path);
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0;
	int r = read_fd_all(fd, AUTHFILE_MAX, &buf, &len);
	close(fd);
	if (r < 0) {
		cap_errf(err, -r, "auth file %s", path);
		return NULL;
	}
	json_error_t je;
	json_t *j = len ? json_loadb(buf, len, 0, &je) : json_object();
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (!json_is_object(j) || (json_object_get(j, "auths") && !json_is_object(json_object_get(j, "auths")))) {
		if (j)
			cap_errf(err, 0, "auth file %s: not a JSON object with an \"auths\" object", path);
		else
			cap_errf(err, 0, "auth file %s: line %d: %s", path, je.line, je.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

int authfile_get(const char *path, const char *host, const char *repo, struct reg_creds *c, cap_err *err)
{
	memset(c, 0, sizeof(*c));
	json_t *j = load(path, err);
	if (!j)
		return -EINVAL;
	json_t *auths = json_object_get(j, "auths");
	/* HOST/A/B, then HOST/A, then HOST */
	char key[1024];
	int n = snprintf(key, sizeof(key), "%s/%s", host, repo ? repo : "");
	if (n < 0 || (size_t)n >= sizeof(key))
		n = snprintf(key, sizeof(key), "%s", host);
	size_t hl = strlen(host);
	int found = 0;
	for (;;) {
		json_t *e = json_object_get(auths, key);
		if (!e && strlen(key) == hl) {
			/* docker's older keys: "https://HOST" and "http://HOST" */
			char alt[1100];
			snprintf(alt, sizeof(alt), "https://%s", host);
			if (!(e = json_object_get(auths, alt))) {
				snprintf(alt, sizeof(alt), "http://%s", host);
				e = json_object_get(auths, alt);
			}
		}
		const char *a = json_string_value(json_object_get(e, "auth"));
		if (a && *a) {
			if (decode(a, c) < 0) {
				found = cap_errf(err, 0, "auth file %s: the \"auth\" of %.300s is not base64 of USER:PASSWORD",
						 path, key);
			} else {
				found = 1;
			}
			break;
		}
		if (strlen(key) <= hl)
			break;
		char *slash = strrchr(key + hl, '/');
		*slash = 0;
	}
	json_decref(j);
	return found;
}

/* The directories above path, made where missing (the store root may not exist yet). */
static int make_parents(const char *path)
{
	char d[4096];
	if (snprintf(d, sizeof(d), "%s", path) >= (int)sizeof(d))
		return -ENAMETOOLONG;
	for (char *p = d + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int lock_file(const char *path, cap_err *err)
{
	char lp[4200];
	int r = make_parents(path);
	if (r < 0)
		return cap_errf(err, -r, "auth file %s", path);
	if (snprintf(lp, sizeof(lp), "%s.lock", path) >= (int)sizeof(lp))
		return cap_errf(err, ENAMETOOLONG, "auth file %s", path);
	int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cap_errf(err, errno, "auth file lock %s", lp);
	if (flock(fd, LOCK_EX) < 0) {
		int e = errno;
		close(fd);
		return cap_errf(err, e, "auth file lock %s", lp);
	}
	return fd;
}

/* The JSON into path through a 0600 temporary file renamed over it. */
static int save(const char *path, json_t *j, cap_err *err)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return cap_errf(err, ENAMETOOLONG, "auth file %s", path);
	char *text = json_dumps(j, JSON_INDENT(8) | JSON_SORT_KEYS);
	if (!text)
		return cap_errf(err, ENOMEM, "auth file %s", path);
	size_t len = strlen(text);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = fd < 0 ? -errno : 0;
	if (r == 0)
		r = fchmod(fd, 0600) < 0 ? -errno : 0;   /* whatever the umask */
	if (r == 0)
		r = write_all(fd, text, len);
	if (r == 0)
		r = write_all(fd, "\n", 1);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	OPENSSL_cleanse(text, len);
	free(text);
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return cap_errf(err, -r, "auth file %s", path);
	}
	return 0;
}

int authfile_set(const char *path, const char *key, const char *user, const char *pass, cap_err *err)
{
	int lk = lock_file(path, err);
	if (lk < 0)
		return lk;
	int r = -EINVAL;
	json_t *j = load(path, err);
	char *b64 = authfile_encode(user, pass);
	if (j && b64) {
		json_t *auths = json_object_get(j, "auths");
		if (!auths) {
			auths = json_object();
			json_object_set_new(j, "auths", auths);
		}
		/* a fresh entry: an old identity token would be used instead of the new password */
		json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64));
		r = save(path, j, err);
	} else if (j) {
		r = cap_errf(err, ENOMEM, "auth file %s", path);
	}
	if (b64) {
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	}
	json_decref(j);
	close(lk);
	return r;
}

int authfile_remove(const char *path, const char *key, cap_err *err)
{
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	int lk = lock_file(path, err);
	if (lk < 0)
		return lk;
	int r = -EINVAL;
	json_t *j = load(path, err);
	if (j) {
		json_t *auths = json_object_get(j, "auths");
		r = 0;
		if (!key && json_object_size(auths) > 0) {
			json_object_clear(auths);
			r = 1;
		} else if (key && json_object_get(auths, key)) {
			json_object_del(auths, key);
			r = 1;
		}
		if (r == 1 && save(path, j, err) < 0)
			r = -EIO;
	}
	json_decref(j);
	close(lk);
	return r;
}
