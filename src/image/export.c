#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "fsutil.h"
#include "layer.h"

/* Where the files go: a directory tree or a tar. */
struct sink {
	struct archive *tar;   /* NULL: a directory */
	int dirfd;
	const char *dest;
};

static int sink_mkdirs(struct sink *k, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", rel);
	for (char *s = p; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (k->tar) {
			/* directories are written once, as "blobs/" and "blobs/sha256/" */
		} else if (mkdirat(k->dirfd, p, 0755) < 0 && errno != EEXIST) {
			return -errno;
		}
		*s = '/';
	}
	return 0;
}

static int tar_header(struct sink *k, const char *name, mode_t type, size_t size, cap_err *err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, type == AE_IFDIR ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(e, time(NULL), 0);
	int r = archive_write_header(k->tar, e) == ARCHIVE_OK ? 0
		: cap_errf(err, 0, "%s: %s: %s", k->dest, name, archive_error_string(k->tar));
	archive_entry_free(e);
	return r;
}

static int sink_dir(struct sink *k, const char *name, cap_err *err)
{
	if (k->tar)
		return tar_header(k, name, AE_IFDIR, 0, err);
	return 0;
}

static int sink_buf(struct sink *k, const char *name, const void *buf, size_t len, cap_err *err)
{
	if (k->tar) {
		int r = tar_header(k, name, AE_IFREG, len, err);
		if (r == 0 && archive_write_data(k->tar, buf, len) != (la_ssize_t)len)
			r = cap_errf(err, 0, "%s: %s: %s", k->dest, name, archive_error_string(k->tar));
		return r;
	}
	int r = sink_mkdirs(k, name);
	int fd = r < 0 ? r : openat(k->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return cap_errf(err, r < 0 ? -r : errno, "%s/%s", k->dest, name);
	r = write_all(fd, buf, len);
	if (close(fd) < 0 && !r)
		r = -errno;
	return r < 0 ? cap_errf(err, -r, "%s/%s", k->dest, name) : 0;
}

static int sink_file(struct sink *k, const char *name, const char *src, cap_err *err)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return cap_errf(err, errno, "%s", src);
	struct stat st;
	fstat(in, &st);
	int r = 0, out = -1;
	if (k->tar)
		r = tar_header(k, name, AE_IFREG, (size_t)st.st_size, err);
	else if ((r = sink_mkdirs(k, name)) < 0 ||
		 (out = openat(k->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
		r = cap_errf(err, r < 0 ? -r : errno, "%s/%s", k->dest, name);
	char buf[1 << 16];
	while (r == 0) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = cap_errf(err, errno, "%s", src);
			break;
		}
		if (n == 0)
			break;
		if (k->tar) {
			if (archive_write_data(k->tar, buf, (size_t)n) != n)
				r = cap_errf(err, 0, "%s: %s: %s", k->dest, name, archive_error_string(k->tar));
		} else if ((r = write_all(out, buf, (size_t)n)) < 0) {
			r = cap_errf(err, -r, "%s/%s", k->dest, name);
		}
	}
	if (out >= 0 && close(out) < 0 && !r)
		r = cap_errf(err, errno, "%s/%s", k->dest, name);
	close(in);
	return r;
}

static int sink_blob(struct store *s, struct sink *k, const char *digest, cap_err *err)
{
	char src[PATH_MAX], name[128];
	store_blob_path(s, digest, src, sizeof(src));
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(digest));
	return sink_file(k, name, src, err);
}

static int write_oci(struct store *s, struct store_image *img, json_t *names, struct sink *k, cap_err *err)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int r;
	if ((r = sink_buf(k, "oci-layout", layout, strlen(layout), err)) < 0 || (r = sink_dir(k, "blobs/", err)) < 0 ||
	    (r = sink_dir(k, "blobs/sha256/", err)) < 0)
		return r;
	if ((r = sink_blob(s, k, img->id, err)) < 0)
		return r;
	const char *cd = json_string_value(json_object_get(json_object_get(img->manifest, "config"), "digest"));
	if ((r = sink_blob(s, k, cd, err)) < 0)
		return r;
	for (size_t i = 0; i < img->n_layers; i++)
		if ((r = sink_blob(s, k, img->layers[i], err)) < 0)
			return r;
	char mp[PATH_MAX];
	struct stat st;
	store_blob_path(s, img->id, mp, sizeof(mp));
	stat(mp, &st);
	const char *mt = json_string_value(json_object_get(img->manifest, "mediaType")) ?: MT_OCI_MANIFEST;
	json_t *desc = json_pack("{s:s,s:s,s:I}", "mediaType", mt, "digest", img->id, "size", (json_int_t)st.st_size);
	/* ref.name is the tag (umoci, skopeo oci:DIR:TAG); the full name goes where containerd
	 * and our import look for it */
	const char *first = json_string_value(json_array_get(names, 0));
	if (first) {
		const char *slash = strrchr(first, '/'), *colon = strrchr(slash ? slash : first, ':');
		json_object_set_new(desc, "annotations",
				    json_pack("{s:s,s:s}", "org.opencontainers.image.ref.name", colon ? colon + 1 : "latest",
					      "io.containerd.image.name", first));
	}
	json_t *idx = json_pack("{s:i,s:s,s:[o]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX, "manifests", desc);
	char *txt = json_dumps(idx, JSON_COMPACT);
	json_decref(idx);
	r = sink_buf(k, "index.json", txt, strlen(txt), err);
	free(txt);
	return r;
}

static int write_docker(struct store *s, struct store_image *img, json_t *names, struct sink *k, cap_err *err)
{
	const char *cd = json_string_value(json_object_get(json_object_get(img->manifest, "config"), "digest"));
	char name[128], src[PATH_MAX];
	int r;
	snprintf(name, sizeof(name), "%s.json", digest_hex(cd));
	store_blob_path(s, cd, src, sizeof(src));
	if ((r = sink_file(k, name, src, err)) < 0)
		return r;
	json_t *layers = json_array();
	for (size_t i = 0; i < img->n_layers && r == 0; i++) {
		/* docker-archive layers are plain tars named by their diff id */
		char lname[128], tmp[PATH_MAX];
		snprintf(lname, sizeof(lname), "%s.tar", digest_hex(img->diff_ids[i]));
		json_array_append_new(layers, json_string(lname));
		store_blob_path(s, img->layers[i], src, sizeof(src));
		const char *mt = json_string_value(json_object_get(json_array_get(json_object_get(img->manifest, "layers"), i), "mediaType")) ?: "";
		(void)mt;
		if (!strcmp(img->layers[i], img->diff_ids[i])) {   /* stored uncompressed */
			r = sink_file(k, lname, src, err);
			continue;
		}
		store_path(s, tmp, sizeof(tmp), "tmp/export-XXXXXX");
		int fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			r = cap_errf(err, errno, "temporary file for layer %s", img->layers[i]);
			break;
		}
		r = layer_decompress_to(src, fd, err);
		close(fd);
		if (r == 0)
			r = sink_file(k, lname, tmp, err);
		unlink(tmp);
	}
	if (r == 0) {
		json_t *tags = json_array(), *n;
		size_t i;
		json_array_foreach(names, i, n)
			json_array_append(tags, n);
		json_t *man = json_pack("[{s:s,s:o,s:O}]", "Config", name, "RepoTags", tags, "Layers", layers);
		char *txt = json_dumps(man, JSON_COMPACT);
		json_decref(man);
		r = sink_buf(k, "manifest.json", txt, strlen(txt), err);
		free(txt);
	}
	json_decref(layers);
	return r;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

int image_export(struct store *s, const char *ref, enum export_type type, const char *dest, cap_err *err)
{
	json_t *images = store_images_load(s, err), *img = images ? store_images_find(images, ref, err) : NULL;
	struct store_image si;
	int r;
	if (!img) {
		json_decref(images);
		return -EINVAL;
	}
	if ((r = store_image_load(s, json_string_value(json_object_get(img, "id")), &si, err)) < 0) {
		json_decref(images);
		return r;
	}
	bool tar = type == EXPORT_DOCKER || ends_with(dest, ".tar");
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.capsule-tmp-%d", dest, (int)getpid());
	struct sink k = { .tar = NULL, .dirfd = -1, .dest = dest };
	if (access(dest, F_OK) == 0) {
		r = cap_errf(err, EEXIST, "export destination %s", dest);
		goto out;
	}
	if (tar) {
		k.tar = archive_write_new();
		archive_write_set_format_pax_restricted(k.tar);
		if (archive_write_open_filename(k.tar, tmp) != ARCHIVE_OK) {
			r = cap_errf(err, archive_errno(k.tar) > 0 ? archive_errno(k.tar) : 0, "%s: %s", dest,
				     archive_error_string(k.tar));
			goto out;
		}
	} else {
		if (mkdir(tmp, 0755) < 0 || (k.dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			r = cap_errf(err, errno, "export destination %s", dest);
			goto out;
		}
	}
	json_t *names = json_object_get(img, "names");
	r = type == EXPORT_OCI ? write_oci(s, &si, names, &k, err) : write_docker(s, &si, names, &k, err);
	if (k.tar && archive_write_close(k.tar) != ARCHIVE_OK && r == 0)
		r = cap_errf(err, 0, "%s: %s", dest, archive_error_string(k.tar));
	if (r == 0 && rename(tmp, dest) < 0)
		r = cap_errf(err, errno, "export destination %s", dest);
out:
	if (k.tar)
		archive_write_free(k.tar);
	if (k.dirfd >= 0)
		close(k.dirfd);
	if (r < 0)
		remove_tree(tmp);
	store_image_free(&si);
	json_decref(images);
	return r;
}
