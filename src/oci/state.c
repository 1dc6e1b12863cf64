#include "state.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/json.h"

const char *oci_status_name(enum oci_status s)
{
	static const char *const n[] = { "creating", "created", "running", "paused", "stopped" };
	return n[s];
}

int oci_id_check(const char *id, cap_err *err)
{
	if (!id || !*id)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "a container id is required");
	if (strlen(id) > 1024 || !strcmp(id, ".") || !strcmp(id, "..") || strchr(id, '/'))
		return cap_errf(err, 0, "invalid container id '%s'", id);
	for (const char *p = id; *p; p++)
		if (!isgraph((unsigned char)*p))
			return cap_errf(err, 0, "invalid container id '%s'", id);
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int oci_state_new(const char *root, const char *id, struct oci_state *st, cap_err *err)
{
	int r;
	memset(st, 0, sizeof(*st));
	st->dirfd = -1;
	r = oci_id_check(id, err);
	if (r < 0)
		return r;
	if (mkdir(root, 0700) < 0 && errno != EEXIST && (r = mkdir_p(root, 0700)) < 0)
		return cap_errf(err, -r, "cannot create state root %s", root);
	snprintf(st->dir, sizeof(st->dir), "%s/%s", root, id);
	if (mkdir(st->dir, 0700) < 0) {
		if (errno == EEXIST)
			return cap_errf(err, 0, "container %s already exists", id);
		return cap_errf(err, errno, "cannot create %s", st->dir);
	}
	st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0 || flock(st->dirfd, LOCK_EX) < 0) {
		r = cap_errf(err, errno, "cannot lock %s", st->dir);
		oci_state_remove(st);
		return r;
	}
	/* Until we held the lock, the directory was a half-made container to anyone else: a
	 * `delete` may have removed it (and another create made it anew). */
	struct stat a, b;
	if (fstat(st->dirfd, &a) < 0 || stat(st->dir, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		close(st->dirfd);
		st->dirfd = -1;
		return cap_errf(err, 0, "container %s was deleted while being created", id);
	}
	st->j = json_object();
	st->status = ST_CREATING;
	return 0;
}

unsigned long long oci_proc_starttime(pid_t pid)
{
	char p[64], buf[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *s = strrchr(buf, ')');
	if (!s || s[1] != ' ')
		return 0;
	s += 2;
	if (*s == 'Z' || *s == 'X')
		return 0;
	/* s points at field 3 (state); starttime is field 22. */
	for (int f = 3; f < 22; f++) {
		s = strchr(s, ' ');
		if (!s)
			return 0;
		s++;
	}
	return strtoull(s, NULL, 10);
}

enum oci_status oci_state_status(struct oci_state *st)
{
	if (st->pid <= 0)
		return ST_STOPPED;
	unsigned long long t = oci_proc_starttime(st->pid);
	if (!t || t != st->starttime)
		return ST_STOPPED;
	if (faccessat(st->dirfd, OCI_FIFO, F_OK, 0) == 0)
		return ST_CREATED;
	if (json_is_true(json_object_get(st->j, "paused")))
		return ST_PAUSED;
	return ST_RUNNING;
}

int oci_state_load(const char *root, const char *id, struct oci_state *st, cap_err *err)
{
	json_error_t je;
	int r;

	memset(st, 0, sizeof(*st));
	st->dirfd = -1;
	r = oci_id_check(id, err);
	if (r < 0)
		return r;
	snprintf(st->dir, sizeof(st->dir), "%s/%s", root, id);
	st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			cap_errf(err, 0, "container %s does not exist", id);
			return -ENOENT;
		}
		return cap_errf(err, errno, "cannot open %s", st->dir);
	}
	if (flock(st->dirfd, LOCK_EX) < 0) {
		r = cap_errf(err, errno, "cannot lock %s", st->dir);
		goto fail;
	}
	st->j = cap_json_load_at(st->dirfd, "state.json", 0, &je);
	if (!st->j && je.line == -1 && faccessat(st->dirfd, "state.json", F_OK, 0) < 0 && errno == ENOENT) {
		/* A create killed before its first record (create writes it before anything else
		 * exists: fifo, cgroup, process). We hold the lock, so it is not in progress: a
		 * stopped container with nothing to undo but the directory. */
		st->j = json_object();
	}
	if (!st->j) {
		r = cap_errf(err, 0, "container %s: corrupt state.json: %s", id, je.text);
		goto fail;
	}
	st->id = json_string_value(json_object_get(st->j, "id"));
	st->bundle = json_string_value(json_object_get(st->j, "bundle"));
	st->cgroup = json_string_value(json_object_get(st->j, "cgroupPath"));
	st->pid = (pid_t)json_integer_value(json_object_get(st->j, "pid"));
	st->starttime = (unsigned long long)json_integer_value(json_object_get(st->j, "starttime"));
	if (!st->id) {
		json_object_set_new(st->j, "id", json_string(id));
		st->id = json_string_value(json_object_get(st->j, "id"));
	}
	st->status = oci_state_status(st);
	return 0;
fail:
	close(st->dirfd);
	st->dirfd = -1;
	return r;
}

int oci_state_save(struct oci_state *st, cap_err *err)
{
	/* Through a temporary file and rename: a runtime killed meanwhile leaves the previous
	 * record whole, never a part of one. */
	char *text = json_dumps(st->j, JSON_COMPACT);
	if (!text)
		return cap_errf(err, ENOMEM, "cannot write %s/state.json", st->dir);
	size_t len = strlen(text);
	int fd = openat(st->dirfd, "state.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n = fd < 0 ? -1 : write(fd, text, len);
	int e = errno;
	free(text);
	if (fd >= 0 && close(fd) < 0 && n >= 0) {
		n = -1;
		e = errno;
	}
	if (n != (ssize_t)len || renameat(st->dirfd, "state.json.tmp", st->dirfd, "state.json") < 0)
		return cap_errf(err, n < 0 ? e : errno ? errno : EIO, "cannot write %s/state.json", st->dir);
	return 0;
}

void oci_state_remove(struct oci_state *st)
{
	if (st->dirfd >= 0) {
		DIR *d = fdopendir(dup(st->dirfd));
		struct dirent *de;
		if (d) {
			while ((de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					unlinkat(st->dirfd, de->d_name, 0);
			closedir(d);
		}
	}
	rmdir(st->dir);
}

void oci_state_close(struct oci_state *st)
{
	if (st->dirfd >= 0)
		close(st->dirfd);
	st->dirfd = -1;
	if (st->j)
		json_decref(st->j);
	st->j = NULL;
}

json_t *oci_state_public(struct oci_state *st)
{
	json_t *o = json_object();
	json_object_set_new(o, "ociVersion", json_string(OCI_SPEC_VERSION));
	json_object_set_new(o, "id", json_string(st->id));
	json_object_set_new(o, "status", json_string(oci_status_name(st->status)));
	json_object_set_new(o, "pid", json_integer(st->status == ST_STOPPED ? 0 : st->pid));
	json_object_set_new(o, "bundle", json_string(st->bundle ? st->bundle : ""));
	json_t *rootfs = json_object_get(st->j, "rootfs");
	if (rootfs)
		json_object_set(o, "rootfs", rootfs);
	json_t *created = json_object_get(st->j, "created");
	if (created)
		json_object_set(o, "created", created);
	json_t *ann = json_object_get(st->j, "annotations");
	json_object_set_new(o, "annotations", ann ? json_incref(ann) : json_object());
	json_t *owner = json_object_get(st->j, "owner");
	if (owner)
		json_object_set(o, "owner", owner);
	return o;
}

void oci_state_export(struct oci_state *st, struct oci_container_state *out)
{
	memset(out, 0, sizeof(*out));
	out->json = oci_state_public(st);
	out->id = json_string_value(json_object_get(out->json, "id"));
	out->bundle = json_string_value(json_object_get(out->json, "bundle"));
	out->created = json_string_value(json_object_get(out->json, "created"));
	out->status = st->status;
	out->pid = st->status == ST_STOPPED ? 0 : st->pid;
}

void oci_container_state_free(struct oci_container_state *s)
{
	if (s->json)
		json_decref(s->json);
	memset(s, 0, sizeof(*s));
}
