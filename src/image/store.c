#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/json.h"
#include "../lib/log.h"
#include "fsutil.h"
#include "layer.h"
#include "progress.h"
#include "store.h"

const char *store_default_root(void)
{
	const char *e = getenv(STORE_ROOT_ENV);
	return e && *e ? e : STORE_DEFAULT_ROOT;
}

int store_path(const struct store *s, char *buf, size_t sz, const char *fmt, ...)
{
	int n = snprintf(buf, sz, "%s/", s->root);
	if (n < 0 || (size_t)n >= sz)
		return -ENAMETOOLONG;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sz - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= sz - (size_t)n)
		return -ENAMETOOLONG;
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int store_open(struct store *s, const char *root, bool exclusive, cap_err *err)
{
	static const char *const dirs[] = { "blobs/sha256", "layers", "tmp" };
	char p[PATH_MAX];
	int r;

	s->lock_fd = -1;
	s->progress = NULL;
	if (!root)
		root = store_default_root();
	if (root[0] != '/')
		return cap_errf(err, 0, "image store %s: the root must be an absolute path", root);
	if (snprintf(s->root, sizeof(s->root), "%s", root) >= (int)sizeof(s->root))
		return cap_errf(err, ENAMETOOLONG, "image store %s", root);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if ((r = store_path(s, p, sizeof(p), "%s", dirs[i])) < 0 || (r = mkdir_p(p)) < 0)
			return cap_errf(err, -r, "image store %s: cannot create %s", root, dirs[i]);
	}
	store_path(s, p, sizeof(p), "lock");
	s->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return cap_errf(err, errno, "image store %s: lock file", root);
	while (flock(s->lock_fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		r = cap_errf(err, errno, "image store %s: cannot lock it", root);
		close(s->lock_fd);
		s->lock_fd = -1;
		return r;
	}
	return 0;
}

void store_close(struct store *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}

int store_blob_path(const struct store *s, const char *digest, char *buf, size_t sz)
{
	if (!digest_valid(digest))
		return -EINVAL;
	return store_path(s, buf, sz, "blobs/sha256/%s", digest_hex(digest));
}

bool store_has_blob(const struct store *s, const char *digest)
{
	char p[PATH_MAX];
	return store_blob_path(s, digest, p, sizeof(p)) == 0 && access(p, F_OK) == 0;
}

static int tmp_file(const struct store *s, char *path, size_t sz, cap_err *err)
{
	if (store_path(s, path, sz, "tmp/blob-XXXXXX") < 0)
		return cap_errf(err, ENAMETOOLONG, "image store %s", s->root);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return cap_errf(err, errno, "image store %s: temporary file", s->root);
	return fd;
}

/* Verified, then renamed into place: a blob's name is always the digest of its bytes. */
static int commit_blob(struct store *s, const char *tmp, const char *what, const char *expect,
		       const char *got, cap_err *err)
{
	char dst[PATH_MAX];
	if (expect && strcmp(expect, got)) {
		unlink(tmp);
		return cap_errf(err, 0, "%s: digest mismatch: content is %s, expected %s", what, got, expect);
	}
	store_blob_path(s, got, dst, sizeof(dst));
	if (rename(tmp, dst) < 0) {
		int e = errno;
		unlink(tmp);
		return cap_errf(err, e, "%s: storing blob %s", what, got);
	}
	return 0;
}

int store_put_fd(struct store *s, int fd, const char *what, const char *expect,
		 char digest[DIGEST_STR_LEN + 1], size_t *size, cap_err *err)
{
	char tmp[PATH_MAX];
	int out = tmp_file(s, tmp, sizeof(tmp), err);
	if (out < 0)
		return out;
	struct digester d;
	digester_init(&d);
	char buf[1 << 16];
	size_t total = 0;
	int r = 0;
	struct stat ist;
	unsigned long long isize = fstat(fd, &ist) == 0 && S_ISREG(ist.st_mode) ? (unsigned long long)ist.st_size : 0;
	char label[64];
	progress_label(label, sizeof(label), "copy", what);
	progress_next(s->progress, true);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = cap_errf(err, errno, "%s: read", what);
			break;
		}
		if (n == 0)
			break;
		digester_update(&d, buf, (size_t)n);
		if ((r = write_all(out, buf, (size_t)n)) < 0) {
			r = cap_errf(err, -r, "%s: writing the blob", what);
			break;
		}
		total += (size_t)n;
		progress_step(s->progress, label, total, isize, false);
	}
	progress_step(s->progress, label, total, isize, true);
	if (close(out) < 0 && !r)
		r = cap_errf(err, errno, "%s: writing the blob", what);
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	digester_final(&d, digest);
	if (size)
		*size = total;
	return commit_blob(s, tmp, what, expect, digest, err);
}

int store_writer_open(struct store *s, struct store_writer *w, cap_err *err)
{
	memset(w, 0, sizeof(*w));
	w->fd = tmp_file(s, w->tmp, sizeof(w->tmp), err);
	if (w->fd < 0)
		return w->fd;
	digester_init(&w->d);
	return 0;
}

int store_writer_write(struct store_writer *w, const void *buf, size_t n)
{
	digester_update(&w->d, buf, n);
	w->size += n;
	return write_all(w->fd, buf, n);
}

int store_writer_reset(struct store_writer *w)
{
	digester_init(&w->d);
	w->size = 0;
	if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
		return -errno;
	return 0;
}

int store_writer_commit(struct store *s, struct store_writer *w, const char *what, const char *expect,
			char digest[DIGEST_STR_LEN + 1], cap_err *err)
{
	int r = close(w->fd) < 0 ? -errno : 0;
	w->fd = -1;
	if (r < 0) {
		unlink(w->tmp);
		return cap_errf(err, -r, "%s: writing the blob", what);
	}
	digester_final(&w->d, digest);
	return commit_blob(s, w->tmp, what, expect, digest, err);
}

void store_writer_abort(struct store_writer *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp);
	}
	w->fd = -1;
}

int store_put_buf(struct store *s, const void *buf, size_t len, const char *expect,
		  char digest[DIGEST_STR_LEN + 1], cap_err *err)
{
	digest_buffer(buf, len, digest);
	if (expect && strcmp(expect, digest))
		return cap_errf(err, 0, "blob: digest mismatch: content is %s, expected %s", digest, expect);
	if (store_has_blob(s, digest))
		return 0;
	char tmp[PATH_MAX];
	int out = tmp_file(s, tmp, sizeof(tmp), err);
	if (out < 0)
		return out;
	int r = write_all(out, buf, len);
	if (close(out) < 0 && !r)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return cap_errf(err, -r, "blob %s: write", digest);
	}
	return commit_blob(s, tmp, "blob", NULL, digest, err);
}

json_t *store_read_json(const struct store *s, const char *digest, cap_err *err)
{
	char p[PATH_MAX], *buf;
	size_t len;
	if (store_blob_path(s, digest, p, sizeof(p)) < 0) {
		cap_errf(err, 0, "'%.100s' is not a sha256 digest", digest ? digest : "(null)");
		return NULL;
	}
	int r = read_file_at(AT_FDCWD, p, STORE_JSON_MAX, &buf, &len);
	if (r < 0) {
		cap_errf(err, -r, "blob %s", digest);
		return NULL;
	}
	char got[DIGEST_STR_LEN + 1];
	digest_buffer(buf, len, got);
	if (strcmp(got, digest)) {
		free(buf);
		cap_errf(err, 0, "blob %s: corrupt in the store (its content is %s)", digest, got);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		cap_errf(err, 0, "blob %s: not a JSON object", digest);
		return NULL;
	}
	return j;
}

int store_tmpdir(const struct store *s, const char *prefix, char *buf, size_t sz, cap_err *err)
{
	if (store_path(s, buf, sz, "tmp/%s-XXXXXX", prefix) < 0)
		return cap_errf(err, ENAMETOOLONG, "image store %s", s->root);
	if (!mkdtemp(buf))
		return cap_errf(err, errno, "image store %s: temporary directory", s->root);
	return 0;
}

/* ---- images.json ---- */

json_t *store_images_load(const struct store *s, cap_err *err)
{
	char p[PATH_MAX], *buf;
	store_path(s, p, sizeof(p), "images.json");
	int r = read_file_at(AT_FDCWD, p, 64u << 20, &buf, NULL);
	if (r == -ENOENT)
		return json_pack("{s:[]}", "images");
	if (r < 0) {
		cap_errf(err, -r, "image store %s: images.json", s->root);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loads(buf, 0, &je);
	free(buf);
	if (!j || !json_is_array(json_object_get(j, "images"))) {
		json_decref(j);
		cap_errf(err, 0, "image store %s: images.json is damaged (line %d: %s)", s->root, je.line, je.text);
		return NULL;
	}
	return j;
}

static int store_images_save(struct store *s, json_t *images, cap_err *err)
{
	char p[PATH_MAX], tmp[PATH_MAX];
	store_path(s, p, sizeof(p), "images.json");
	int fd = tmp_file(s, tmp, sizeof(tmp), err);
	if (fd < 0)
		return fd;
	char *txt = json_dumps(images, JSON_INDENT(1));
	int r = txt ? write_all(fd, txt, strlen(txt)) : -ENOMEM;
	free(txt);
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, p) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return cap_errf(err, -r, "image store %s: writing images.json", s->root);
	}
	return 0;
}

int store_images_update(struct store *s, int (*fn)(json_t *images, void *ctx, cap_err *err), void *ctx,
			cap_err *err)
{
	char p[PATH_MAX];
	int r;
	if ((r = store_path(s, p, sizeof(p), "images.lock")) < 0)
		return cap_errf(err, -r, "image store %s", s->root);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cap_errf(err, errno, "image store %s: images.lock", s->root);
	while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = cap_errf(err, errno, "image store %s: cannot lock images.lock", s->root);
		close(fd);
		return r;
	}
	json_t *images = store_images_load(s, err);
	if (!images)
		r = -EINVAL;
	else if ((r = fn(images, ctx, err)) == 0)
		r = store_images_save(s, images, err);
	json_decref(images);
	close(fd);   /* drops the lock */
	return r;
}

bool store_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 255 || strchr(name, '@') || name[0] == '/' || name[n - 1] == '/' || strstr(name, "//"))
		return false;
	const char *slash = strrchr(name, '/'), *colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		const char *tag = colon + 1;
		size_t tl = strlen(tag);
		if (tl == 0 || tl > 128 || tag[0] == '.' || tag[0] == '-' ||
		    strspn(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != tl)
			return false;
	}
	size_t repo = colon ? (size_t)(colon - name) : n;
	/* the first component may be a registry host[:port] */
	const char *first_end = memchr(name, '/', repo);
	size_t i = 0;
	size_t hl = first_end ? (size_t)(first_end - name) : 0;
	/* a registry host, as docker tells it: a dot, a port, or localhost */
	if (first_end && (memchr(name, '.', hl) || memchr(name, ':', hl) || (hl == 9 && !strncmp(name, "localhost", 9)))) {
		for (; i < hl; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_", name[i]))
				return false;
	}
	if (i)
		i++;   /* past the host's slash */
	/* each path component: lowercase letters and digits, separated inside by . _ or - */
	size_t start = i;
	for (; i <= repo; i++) {
		if (i < repo && name[i] != '/') {
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", name[i]))
				return false;
			continue;
		}
		if (i == start || !isalnum((unsigned char)name[start]) || !isalnum((unsigned char)name[i - 1]))
			return false;
		start = i + 1;
	}
	return true;
}

int store_normalize_name(const char *ref, char *buf, size_t sz)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');
	int n = snprintf(buf, sz, "%s%s", ref, colon || strchr(ref, '@') ? "" : ":latest");
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

int store_images_add(json_t *images, const char *id, const char *const *names, size_t n)
{
	json_t *arr = json_object_get(images, "images"), *img, *mine = NULL;
	size_t i;

	json_array_foreach(arr, i, img) {
		if (!strcmp(json_string_value(json_object_get(img, "id")) ?: "", id))
			mine = img;
		json_t *nm = json_object_get(img, "names");
		for (size_t k = 0; k < n; k++)
			for (size_t j = json_array_size(nm); j-- > 0;)
				if (!strcmp(json_string_value(json_array_get(nm, j)) ?: "", names[k]))
					json_array_remove(nm, j);
	}
	if (!mine) {
		char when[32];
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		mine = json_pack("{s:s,s:[],s:s}", "id", id, "names", "added", when);
		json_array_append_new(arr, mine);
	}
	json_t *nm = json_object_get(mine, "names");
	for (size_t k = 0; k < n; k++)
		json_array_append_new(nm, json_string(names[k]));
	return 0;
}

bool store_name_matches(const char *stored, const char *name)
{
	if (!stored)
		return false;
	if (!strcmp(stored, name))
		return true;
	/* a short name is also what podman and docker call it: localhost/NAME, docker.io/[library/]NAME */
	char alt[1100];
	snprintf(alt, sizeof(alt), "localhost/%s", name);
	if (!strcmp(stored, alt))
		return true;
	snprintf(alt, sizeof(alt), "docker.io/%s%s", strchr(name, '/') ? "" : "library/", name);
	return !strcmp(stored, alt);
}

json_t *store_images_find(json_t *images, const char *ref, cap_err *err)
{
	json_t *arr = json_object_get(images, "images"), *img, *hit = NULL;
	char name[1024];
	size_t i, j;

	if (store_normalize_name(ref, name, sizeof(name)) < 0) {
		cap_errf(err, 0, "image '%.100s': name too long", ref);
		return NULL;
	}
	json_array_foreach(arr, i, img) {
		json_t *n;
		json_array_foreach(json_object_get(img, "names"), j, n)
			if (store_name_matches(json_string_value(n), name))
				return img;
	}
	const char *hex = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;
	size_t len = strlen(hex);
	bool is_hex = len >= 4 && len <= DIGEST_HEX_LEN && strspn(hex, "0123456789abcdef") == len;
	if (is_hex) {
		json_array_foreach(arr, i, img) {
			const char *id = json_string_value(json_object_get(img, "id"));
			if (id && digest_valid(id) && !strncmp(digest_hex(id), hex, len)) {
				if (hit) {
					cap_errf(err, 0, "image '%s': the id prefix is ambiguous", ref);
					return NULL;
				}
				hit = img;
			}
		}
	}
	if (!hit)
		cap_errf(err, 0, "image '%s': no such image in the store", ref);
	return hit;
}

/* ---- one image ---- */

void store_image_free(struct store_image *img)
{
	json_decref(img->manifest);
	json_decref(img->config);
	free(img->layers);
	free(img->diff_ids);
	memset(img, 0, sizeof(*img));
}

int store_image_load(const struct store *s, const char *id, struct store_image *img, cap_err *err)
{
	memset(img, 0, sizeof(*img));
	if (!digest_valid(id))
		return cap_errf(err, 0, "image id '%.100s' is not a sha256 digest", id);
	snprintf(img->id, sizeof(img->id), "%s", id);
	if (!(img->manifest = store_read_json(s, id, err)))
		goto bad;
	const char *cd = json_string_value(json_object_get(json_object_get(img->manifest, "config"), "digest"));
	json_t *layers = json_object_get(img->manifest, "layers");
	if (!cd || !json_is_array(layers)) {
		cap_errf(err, 0, "image %s: manifest without config or layers", id);
		goto bad;
	}
	if (!(img->config = store_read_json(s, cd, err)))
		goto bad;
	json_t *dids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
	if (!json_is_array(dids) || json_array_size(dids) != json_array_size(layers)) {
		cap_errf(err, 0, "image %s: config's rootfs.diff_ids does not match the manifest's layers", id);
		goto bad;
	}
	img->n_layers = json_array_size(layers);
	img->layers = calloc(img->n_layers + 1, sizeof(*img->layers));
	img->diff_ids = calloc(img->n_layers + 1, sizeof(*img->diff_ids));
	if (!img->layers || !img->diff_ids) {
		cap_errf(err, ENOMEM, "image %s", id);
		goto bad;
	}
	for (size_t i = 0; i < img->n_layers; i++) {
		const char *l = json_string_value(json_object_get(json_array_get(layers, i), "digest"));
		const char *d = json_string_value(json_array_get(dids, i));
		if (!digest_valid(l) || !digest_valid(d)) {
			cap_errf(err, 0, "image %s: layer %zu has no valid sha256 digest", id, i);
			goto bad;
		}
		memcpy(img->layers[i], l, DIGEST_STR_LEN + 1);
		memcpy(img->diff_ids[i], d, DIGEST_STR_LEN + 1);
	}
	return 0;
bad:
	store_image_free(img);
	return -EINVAL;
}

int store_layer_dir(const struct store *s, const char *diff_id, char *buf, size_t sz)
{
	if (!digest_valid(diff_id))
		return -EINVAL;
	return store_path(s, buf, sz, "layers/%s", digest_hex(diff_id));
}

int store_unpack_layer(struct store *s, const char *blob, const char *diff_id, cap_err *err)
{
	char dst[PATH_MAX], tmp[PATH_MAX], src[PATH_MAX];
	if (store_layer_dir(s, diff_id, dst, sizeof(dst)) < 0 || store_blob_path(s, blob, src, sizeof(src)) < 0)
		return cap_errf(err, 0, "layer %.80s: bad digest", diff_id);
	if (access(dst, F_OK) == 0)
		return 0;
	int r = store_tmpdir(s, "layer", tmp, sizeof(tmp), err);
	if (r < 0)
		return r;
	int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = cap_errf(err, errno, "%s", tmp);
		goto fail;
	}
	chmod(tmp, 0755);
	char what[DIGEST_STR_LEN + 16];
	snprintf(what, sizeof(what), "layer %s", blob);   /* in errors; "unpack" is in the progress line */
	struct layer_stats st = { .progress = s->progress };
	progress_label(st.label, sizeof(st.label), "unpack", blob);
	progress_next(s->progress, false);
	r = layer_extract_file(src, what, fd, LAYER_OVERLAY, &st, err);
	close(fd);
	if (r < 0)
		goto fail;
	if (rename(tmp, dst) < 0) {
		/* a concurrent import of the same layer was first: its copy is as good */
		if ((errno == EEXIST || errno == ENOTEMPTY) && access(dst, F_OK) == 0) {
			r = 0;
			goto fail;
		}
		r = cap_errf(err, errno, "layer %s: moving it into place", diff_id);
		goto fail;
	}
	return 0;
fail:
	remove_tree(tmp);
	return r;
}

/* ---- garbage collection ---- */

static void ref_add(json_t *set, const char *d)
{
	if (d && digest_valid(d))
		json_object_set_new(set, digest_hex(d), json_true());
}

static void refs_of_image(const struct store *s, const char *id, json_t *blobs, json_t *layers)
{
	struct store_image img;
	cap_err e = { 0 };
	ref_add(blobs, id);
	if (store_image_load(s, id, &img, &e) < 0) {
		/* keep whatever the manifest still names, so that a damaged image loses nothing */
		json_t *m = store_read_json(s, id, &e);
		if (m) {
			ref_add(blobs, json_string_value(json_object_get(json_object_get(m, "config"), "digest")));
			size_t i;
			json_t *l;
			json_array_foreach(json_object_get(m, "layers"), i, l)
				ref_add(blobs, json_string_value(json_object_get(l, "digest")));
			json_decref(m);
		}
		return;
	}
	ref_add(blobs, json_string_value(json_object_get(json_object_get(img.manifest, "config"), "digest")));
	for (size_t i = 0; i < img.n_layers; i++) {
		ref_add(blobs, img.layers[i]);
		ref_add(layers, img.diff_ids[i]);
	}
	store_image_free(&img);
}

static size_t sweep(const struct store *s, const char *sub, json_t *keep, unsigned long long *bytes)
{
	char p[PATH_MAX];
	size_t n = 0;
	store_path(s, p, sizeof(p), "%s", sub);
	int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (keep && json_object_get(keep, de->d_name))
			continue;
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			*bytes += (unsigned long long)st.st_size;
		if (remove_tree_at(dfd, de->d_name) == 0)
			n++;
		else
			cap_warn("image store: cannot remove %s/%s", p, de->d_name);
	}
	closedir(d);
	return n;
}

int store_gc(struct store *s, struct store_gc_stats *st, cap_err *err)
{
	memset(st, 0, sizeof(*st));
	json_t *images = store_images_load(s, err);
	if (!images)
		return -EINVAL;
	json_t *blobs = json_object(), *layers = json_object(), *img;
	size_t i;
	json_array_foreach(json_object_get(images, "images"), i, img)
		refs_of_image(s, json_string_value(json_object_get(img, "id")) ?: "", blobs, layers);
	/* A container keeps its image's layers (its root is mounted on them) after the image's
	 * names and entry went: ROOT/containers/<id>/instance.json names the image. */
	char cdir[PATH_MAX];
	store_path(s, cdir, sizeof(cdir), "containers");
	DIR *d = opendir(cdir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char rec[PATH_MAX + 300];
		json_error_t je;
		if (e->d_name[0] == '.')
			continue;
		snprintf(rec, sizeof(rec), "%s/%s/instance.json", cdir, e->d_name);
		json_t *j = cap_json_load_path(rec, 0, &je);
		const char *id = json_string_value(json_object_get(j, "image"));
		if (id)
			refs_of_image(s, id, blobs, layers);
		json_decref(j);
	}
	if (d)
		closedir(d);

	st->blobs = sweep(s, "blobs/sha256", blobs, &st->bytes);
	st->layers = sweep(s, "layers", layers, &st->bytes);
	st->tmp = sweep(s, "tmp", NULL, &st->bytes);
	json_decref(blobs);
	json_decref(layers);
	json_decref(images);
	return 0;
}
