#include "instance.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/json.h"
#include "../oci/oci.h"

int instance_oci_root(const struct store *s, char *buf, size_t sz)
{
	return store_path(s, buf, sz, "oci");
}

static int containers_dir(const struct store *s, char *buf, size_t sz)
{
	return store_path(s, buf, sz, "containers");
}

void instance_now(char *buf, size_t sz)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sz, "%s.%09ldZ", base, ts.tv_nsec);
}

const char *instance_str(const struct instance *in, const char *key)
{
	json_t *v = json_object_get(in->rec, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int instance_set_str(struct instance *in, const char *key, const char *v)
{
	return json_object_set_new(in->rec, key, v ? json_string(v) : json_null()) < 0 ? -ENOMEM : 0;
}

int instance_set_int(struct instance *in, const char *key, long long v)
{
	return json_object_set_new(in->rec, key, json_integer(v)) < 0 ? -ENOMEM : 0;
}

long long instance_int(const struct instance *in, const char *key, long long dflt)
{
	json_t *v = json_object_get(in->rec, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

void instance_free(struct instance *in)
{
	json_decref(in->rec);
	in->rec = NULL;
}

int instance_save(const struct instance *in, cap_err *err)
{
	char p[PATH_MAX + 32], tmp[PATH_MAX + 48];
	snprintf(p, sizeof(p), "%s/instance.json", in->dir);
	snprintf(tmp, sizeof(tmp), "%s/.instance.json.%d", in->dir, (int)getpid());
	if (json_dump_file(in->rec, tmp, JSON_INDENT(1)) < 0 || rename(tmp, p) < 0) {
		int e = errno;
		unlink(tmp);
		return cap_errf(err, e ? e : EIO, "container %.12s: writing its record", in->id);
	}
	return 0;
}

static int load_dir(const struct store *s, const char *id, struct instance *in, cap_err *err)
{
	char base[PATH_MAX], p[PATH_MAX + 32];
	json_error_t je;
	containers_dir(s, base, sizeof(base));
	memset(in, 0, sizeof(*in));
	snprintf(in->id, sizeof(in->id), "%s", id);
	if (snprintf(in->dir, sizeof(in->dir), "%s/%s", base, id) >= (int)sizeof(in->dir))
		return cap_errf(err, ENAMETOOLONG, "container %s", id);
	snprintf(p, sizeof(p), "%s/instance.json", in->dir);
	in->rec = cap_json_load_path(p, 0, &je);
	if (!json_is_object(in->rec)) {
		json_decref(in->rec);
		in->rec = NULL;
		return cap_errf(err, 0, "container %.12s: unreadable record (%s)", id, je.text);
	}
	return 0;
}

static bool is_id(const char *s)
{
	return strlen(s) == INSTANCE_ID_LEN && strspn(s, "0123456789abcdef") == INSTANCE_ID_LEN;
}

static int by_created(const void *a, const void *b)
{
	const struct instance *x = a, *y = b;
	const char *cx = instance_str(x, "created"), *cy = instance_str(y, "created");
	return strcmp(cx ? cx : "", cy ? cy : "");
}

int instance_list(const struct store *s, struct instance **out, size_t *n, cap_err *err)
{
	char base[PATH_MAX];
	containers_dir(s, base, sizeof(base));
	*out = NULL;
	*n = 0;
	DIR *d = opendir(base);
	if (!d)
		return errno == ENOENT ? 0 : cap_errf(err, errno, "%s", base);
	struct dirent *e;
	size_t cap = 0;
	while ((e = readdir(d))) {
		if (!is_id(e->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct instance *v = realloc(*out, cap * sizeof(**out));
			if (!v) {
				closedir(d);
				instance_list_free(*out, *n);
				return cap_errf(err, ENOMEM, "containers");
			}
			*out = v;
		}
		cap_err ignored = { 0 };
		if (load_dir(s, e->d_name, &(*out)[*n], &ignored) == 0)
			(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), by_created);
	return 0;
}

void instance_list_free(struct instance *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		instance_free(&v[i]);
	free(v);
}

int instance_find(const struct store *s, const char *ref, struct instance *in, cap_err *err)
{
	struct instance *v;
	size_t n, hit = (size_t)-1, hits = 0;
	int r = instance_list(s, &v, &n, err);
	if (r < 0)
		return r;
	size_t len = strlen(ref);
	for (size_t i = 0; i < n; i++) {
		const char *name = instance_str(&v[i], "name");
		if (!strcmp(v[i].id, ref) || (name && !strcmp(name, ref))) {
			hit = i, hits = 1;
			break;
		}
		if (len >= 4 && !strncmp(v[i].id, ref, len))
			hit = i, hits++;
	}
	if (hits != 1) {
		instance_list_free(v, n);
		return cap_errf(err, hits ? 0 : ENOENT, "container %s: %s", ref, hits ? "ambiguous id prefix" : "no such container");
	}
	*in = v[hit];
	v[hit].rec = NULL;
	instance_list_free(v, n);
	return 0;
}

static bool name_valid(const char *n)
{
	size_t len = strlen(n);
	return len > 0 && len <= 128 &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len && n[0] != '.' &&
	       n[0] != '-';
}

static int lock_containers(const struct store *s, cap_err *err)
{
	char p[PATH_MAX];
	store_path(s, p, sizeof(p), "containers.lock");
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return cap_errf(err, e, "%s", p);
	}
	return fd;
}

int instance_new(struct store *s, const char *name, const char *image_id, const char *image_ref,
		 struct instance *in, cap_err *err)
{
	unsigned char rnd[32];
	char base[PATH_MAX], made[40], now[64];
	int r, lock;
	memset(in, 0, sizeof(*in));
	if (name && !name_valid(name))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0,
				     "container name '%s': want 1 to 128 letters, digits, '_', '.', '-' (not first)", name);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return cap_errf(err, errno, "container id");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(in->id + 2 * i, 3, "%02x", rnd[i]);
	if (!name) {
		snprintf(made, sizeof(made), "capsule-%.12s", in->id);
		name = made;
	}
	containers_dir(s, base, sizeof(base));
	if (mkdir(base, 0700) < 0 && errno != EEXIST)
		return cap_errf(err, errno, "%s", base);
	if ((lock = lock_containers(s, err)) < 0)
		return lock;
	struct instance other;
	cap_err ignored = { 0 };
	if (instance_find(s, name, &other, &ignored) == 0) {
		instance_free(&other);
		close(lock);
		return cap_errf(err, 0, "container name %s: already in use by %.12s", name, other.id);
	}
	if (snprintf(in->dir, sizeof(in->dir), "%s/%s", base, in->id) >= (int)sizeof(in->dir)) {
		close(lock);
		return cap_errf(err, ENAMETOOLONG, "%s", base);
	}
	if (mkdir(in->dir, 0700) < 0) {
		r = cap_errf(err, errno, "%s", in->dir);
		close(lock);
		return r;
	}
	instance_now(now, sizeof(now));
	in->rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", in->id, "name", name, "image", image_id, "image_ref",
			    image_ref, "created", now, "status", "created");
	r = in->rec ? instance_save(in, err) : cap_errf(err, ENOMEM, "container record");
	close(lock);
	if (r < 0) {
		rmdir(in->dir);
		instance_free(in);
	}
	return r;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

int instance_remove(struct store *s, struct instance *in, cap_err *err)
{
	int lock = lock_containers(s, err);
	if (lock < 0)
		return lock;
	/* Never into a mount (an overlay still mounted would lose the layer's files). */
	nftw(in->dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	int r = access(in->dir, F_OK) == 0 ? cap_errf(err, EBUSY, "container %.12s: removing %s", in->id, in->dir) : 0;
	close(lock);
	return r;
}

const char *instance_state_name(enum instance_state st)
{
	static const char *const names[] = { "created", "running", "paused", "exited" };
	return names[st];
}

enum instance_state instance_status(const struct store *s, const struct instance *in, int *exit_code)
{
	char root[PATH_MAX];
	struct oci_container_state cs;
	cap_err ignored = { 0 };
	const char *rec = instance_str(in, "status");
	*exit_code = (int)instance_int(in, "exit_code", -1);
	instance_oci_root(s, root, sizeof(root));
	struct oci_runtime rt = { .root = root };
	if (oci_state_get(&rt, in->id, &cs, &ignored) == 0) {
		enum oci_status st = cs.status;
		oci_container_state_free(&cs);
		switch (st) {
		case ST_RUNNING: return INST_RUNNING;
		case ST_PAUSED: return INST_PAUSED;
		case ST_CREATING:
		case ST_CREATED: return INST_CREATED;
		case ST_STOPPED: break;
		}
		/* stopped, not yet reaped by its monitor: the record gets the code soon */
		return INST_EXITED;
	}
	if (rec && !strcmp(rec, "created"))
		return INST_CREATED;
	if (rec && strcmp(rec, "exited"))
		*exit_code = -1; /* it said running, and nothing runs: whoever watched it died */
	return INST_EXITED;
}
