#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../lib/log.h"
#include "fsutil.h"
#include "import.h"
#include "layer.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

const char *image_host_arch(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		return "amd64";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	if (!strcmp(u.machine, "i686") || !strcmp(u.machine, "i386"))
		return "386";
	return "amd64";
}

static void now_iso(char *buf, size_t sz)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *layer_media_type(const char *compression)
{
	if (!strcmp(compression, "gzip"))
		return MT_OCI_LAYER "+gzip";
	if (!strcmp(compression, "zstd"))
		return MT_OCI_LAYER "+zstd";
	return MT_OCI_LAYER;
}

/* A layer file into the store. xz and bzip2 have no OCI media type: those are stored
 * decompressed. Fills the descriptor and the diff id. */
static int put_layer(struct store *s, int fd, const char *what, const char *expect, json_t **desc,
		     char diff_id[DIGEST_STR_LEN + 1], cap_err *err)
{
	char digest[DIGEST_STR_LEN + 1], path[PATH_MAX];
	size_t size;
	const char *comp;
	int r = store_put_fd(s, fd, what, expect, digest, &size, err);
	if (r < 0)
		return r;
	store_blob_path(s, digest, path, sizeof(path));
	if ((r = layer_diff_id(path, diff_id, &comp, err)) < 0)
		return r;
	if (!strcmp(comp, "xz") || !strcmp(comp, "bzip2") || !strcmp(comp, "unknown")) {
		if (expect)
			return cap_errf(err, 0, "%s: %s compression is not an OCI layer media type", what, comp);
		char tmp[PATH_MAX];
		store_path(s, tmp, sizeof(tmp), "tmp/plain-XXXXXX");
		int t = mkostemp(tmp, O_CLOEXEC);
		if (t < 0)
			return cap_errf(err, errno, "%s: temporary file", what);
		unlink(tmp);
		if ((r = layer_decompress_to(path, t, err)) < 0 || lseek(t, 0, SEEK_SET) < 0) {
			close(t);
			return r < 0 ? r : cap_errf(err, errno, "%s", what);
		}
		r = store_put_fd(s, t, what, NULL, digest, &size, err);
		close(t);
		if (r < 0)
			return r;
		comp = "none";
	}
	*desc = json_pack("{s:s,s:s,s:I}", "mediaType", layer_media_type(comp), "digest", digest, "size",
			  (json_int_t)size);
	return 0;
}

/* The image's config and layers are in the store: check the diff ids, unpack the layers,
 * store the manifest (built when NULL) and name the image. */
int image_finish(struct store *s, json_t *images, const char *src, const char *config_digest, size_t config_size,
			json_t *layers, char (*diff_ids)[DIGEST_STR_LEN + 1], const char *manifest_digest,
			const char *const *names, size_t n_names, char id[DIGEST_STR_LEN + 1], cap_err *err)
{
	json_t *config = store_read_json(s, config_digest, err);
	if (!config)
		return -EINVAL;
	json_t *dids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	size_t n = json_array_size(layers);
	int r = 0;
	if (!json_is_array(dids) || json_array_size(dids) != n) {
		r = cap_errf(err, 0, "%s: image config %s: rootfs.diff_ids lists %zu layers, the image has %zu", src, config_digest,
			     json_array_size(dids), n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *want = json_string_value(json_array_get(dids, i));
		if (!want || strcmp(want, diff_ids[i])) {
			r = cap_errf(err, 0, "%s: layer %zu: its content (diff id %s) is not what the config says (%s): refused",
				     src, i, diff_ids[i], want ? want : "none");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *blob = json_string_value(json_object_get(json_array_get(layers, i), "digest"));
		if ((r = store_unpack_layer(s, blob, diff_ids[i], err)) < 0) {
			cap_err_prefix(err, "%s", src);
			goto out;
		}
	}
	if (manifest_digest) {
		snprintf(id, DIGEST_STR_LEN + 1, "%s", manifest_digest);
	} else {
		json_t *m = json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:O}", "schemaVersion", 2, "mediaType",
				      MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest", config_digest,
				      "size", (json_int_t)config_size, "layers", layers);
		char *txt = json_dumps(m, JSON_COMPACT);
		json_decref(m);
		if (!txt) {
			r = cap_errf(err, ENOMEM, "manifest");
			goto out;
		}
		r = store_put_buf(s, txt, strlen(txt), NULL, id, err);
		free(txt);
		if (r < 0)
			goto out;
	}
	store_images_add(images, id, names, n_names);
out:
	json_decref(config);
	return r;
}

/* ---- docker-archive ---- */

static bool hex_json_name(const char *p, char *digest)
{
	const char *b = strrchr(p, '/');
	b = b ? b + 1 : p;
	if (strlen(b) != DIGEST_HEX_LEN + 5 || strcmp(b + DIGEST_HEX_LEN, ".json"))
		return false;
	snprintf(digest, DIGEST_STR_LEN + 1, "sha256:%.64s", b);
	return digest_valid(digest);
}

/* A regular file inside the layout or archive dfd: never a path out of it, never a FIFO or
 * device to block on or read forever. */
static int open_in(int dfd, const char *path, const char *what, cap_err *err)
{
	char rel[PATH_MAX];
	struct stat st;
	if (normalize_rel_path(path, rel, sizeof(rel)) < 0 || !*rel)
		return cap_errf(err, 0, "%s: path '%.200s' is not inside the archive", what, path);
	int fd = open_in_root(dfd, rel, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return cap_errf(err, -fd, "%s: %s", what, rel);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cap_errf(err, 0, "%s: %s is not a regular file", what, rel);
	}
	return fd;
}

static int read_in(int dfd, const char *path, size_t max, char **buf, size_t *len, const char *what, cap_err *err)
{
	int fd = open_in(dfd, path, what, err);
	if (fd < 0)
		return fd;
	int r = read_fd_all(fd, max, buf, len);
	close(fd);
	if (r < 0)
		return cap_errf(err, -r, "%s: %s", what, path);
	return 0;
}

static int add_result(struct import_result *res, const char *id, cap_err *err)
{
	if (res->n >= sizeof(res->ids) / sizeof(res->ids[0]))
		return cap_errf(err, 0, "too many images in one archive (at most %zu)", sizeof(res->ids) / sizeof(res->ids[0]));
	memcpy(res->ids[res->n++], id, DIGEST_STR_LEN + 1);
	return 0;
}

static int import_docker(struct store *s, json_t *images, int dfd, const char *src, const char *name,
			 struct import_result *res, cap_err *err)
{
	char *buf;
	size_t len;
	int r = read_in(dfd, "manifest.json", STORE_JSON_MAX, &buf, &len, src, err);
	if (r < 0)
		return r;
	json_error_t je;
	json_t *man = json_loadb(buf, len, 0, &je);
	free(buf);
	if (!json_is_array(man) || json_array_size(man) == 0) {
		json_decref(man);
		return cap_errf(err, 0, "%s: manifest.json is not a non-empty JSON array", src);
	}
	if (name && json_array_size(man) != 1) {
		json_decref(man);
		return cap_errf(err, 0, "%s: holds %zu images, a NAME fits only one", src, json_array_size(man));
	}
	size_t i;
	json_t *ent;
	json_array_foreach(man, i, ent) {
		const char *cfg = json_string_value(json_object_get(ent, "Config"));
		json_t *lay = json_object_get(ent, "Layers");
		if (!cfg || !json_is_array(lay)) {
			r = cap_errf(err, 0, "%s: manifest.json entry %zu lacks Config or Layers", src, i);
			break;
		}
		char want[DIGEST_STR_LEN + 1], cdig[DIGEST_STR_LEN + 1];
		bool named = hex_json_name(cfg, want);
		if ((r = read_in(dfd, cfg, STORE_JSON_MAX, &buf, &len, src, err)) < 0)
			break;
		r = store_put_buf(s, buf, len, named ? want : NULL, cdig, err);
		free(buf);
		if (r < 0) {
			cap_err_prefix(err, "%s: config %s", src, cfg);
			break;
		}
		size_t nl = json_array_size(lay);
		char (*dids)[DIGEST_STR_LEN + 1] = calloc(nl + 1, sizeof(*dids));
		json_t *descs = json_array();
		for (size_t k = 0; k < nl && r == 0; k++) {
			const char *lp = json_string_value(json_array_get(lay, k));
			char what[PATH_MAX + 64];
			snprintf(what, sizeof(what), "%s: layer %.200s", src, lp ? lp : "?");
			int fd = lp ? open_in(dfd, lp, src, err) : cap_errf(err, 0, "%s: layer %zu has no path", src, k);
			if (fd < 0) {
				r = fd;
				break;
			}
			json_t *d;
			r = put_layer(s, fd, what, NULL, &d, dids[k], err);
			close(fd);
			if (r == 0)
				json_array_append_new(descs, d);
		}
		const char *names[64];
		char normed[64][512];
		size_t nn = 0;
		if (name) {
			store_normalize_name(name, normed[0], sizeof(normed[0]));
			names[nn] = normed[nn];
			nn++;
		} else {
			size_t t;
			json_t *tag;
			json_array_foreach(json_object_get(ent, "RepoTags"), t, tag) {
				if (nn < 64 && json_is_string(tag) &&
				    store_name_valid(json_string_value(tag)) &&
				    store_normalize_name(json_string_value(tag), normed[nn], sizeof(normed[nn])) == 0) {
					names[nn] = normed[nn];
					nn++;
				}
			}
		}
		char id[DIGEST_STR_LEN + 1];
		if (r == 0) {
			char cp[PATH_MAX];
			struct stat st;
			store_blob_path(s, cdig, cp, sizeof(cp));
			stat(cp, &st);
			r = image_finish(s, images, src, cdig, (size_t)st.st_size, descs, dids, NULL, names, nn, id, err);
		}
		json_decref(descs);
		free(dids);
		if (r == 0)
			r = add_result(res, id, err);
		if (r < 0)
			break;
	}
	json_decref(man);
	return r;
}

/* ---- OCI image layout ---- */

static json_t *layout_json(struct store *s, int dfd, json_t *desc, const char *src, char digest[DIGEST_STR_LEN + 1],
			   cap_err *err)
{
	const char *d = json_string_value(json_object_get(desc, "digest"));
	if (!digest_valid(d)) {
		cap_errf(err, 0, "%s: descriptor digest '%.100s' is not sha256", src, d ? d : "(none)");
		return NULL;
	}
	char rel[128], *buf;
	size_t len;
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest_hex(d));
	if (read_in(dfd, rel, STORE_JSON_MAX, &buf, &len, src, err) < 0)
		return NULL;
	json_t *j = NULL;
	if (store_put_buf(s, buf, len, d, digest, err) < 0)
		cap_err_prefix(err, "%s: %s", src, rel);
	else if (!(j = json_loadb(buf, len, 0, NULL)) || !json_is_object(j)) {
		json_decref(j);
		j = NULL;
		cap_errf(err, 0, "%s: %s is not a JSON object", src, rel);
	}
	free(buf);
	return j;
}

static int layout_blob(struct store *s, int dfd, json_t *desc, const char *src, char digest[DIGEST_STR_LEN + 1],
		       size_t *size, cap_err *err)
{
	const char *d = json_string_value(json_object_get(desc, "digest"));
	if (!digest_valid(d))
		return cap_errf(err, 0, "%s: descriptor digest '%.100s' is not sha256", src, d ? d : "(none)");
	char rel[128];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest_hex(d));
	int fd = open_in(dfd, rel, src, err);
	if (fd < 0)
		return fd;
	char what[PATH_MAX + 64];
	snprintf(what, sizeof(what), "%s: %s", src, rel);
	int r = store_put_fd(s, fd, what, d, digest, size, err);
	close(fd);
	return r;
}

static bool platform_matches(json_t *desc)
{
	json_t *p = json_object_get(desc, "platform");
	const char *os = json_string_value(json_object_get(p, "os"));
	const char *arch = json_string_value(json_object_get(p, "architecture"));
	return !p || ((!os || !strcmp(os, "linux")) && (!arch || !strcmp(arch, image_host_arch())));
}

json_t *image_pick_platform(json_t *index)
{
	size_t i;
	json_t *sub;
	json_array_foreach(json_object_get(index, "manifests"), i, sub)
		if (platform_matches(sub))
			return sub;
	return NULL;
}

static int oci_manifest(struct store *s, json_t *images, int dfd, json_t *desc, const char *src, const char *name,
			struct import_result *res, int depth, cap_err *err)
{
	char mdig[DIGEST_STR_LEN + 1];
	const char *mt = json_string_value(json_object_get(desc, "mediaType"));
	json_t *m = layout_json(s, dfd, desc, src, mdig, err);
	if (!m)
		return -EINVAL;
	int r = 0;
	if (!mt)
		mt = json_string_value(json_object_get(m, "mediaType"));
	if (mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST))) {

		json_t *pick;
		if (depth > 3) {
			r = cap_errf(err, 0, "%s: image indexes nested too deep", src);
			goto out;
		}
		pick = image_pick_platform(m);
		if (!pick) {
			r = cap_errf(err, 0, "%s: index %s has no manifest for linux/%s", src, mdig, image_host_arch());
			goto out;
		}
		r = oci_manifest(s, images, dfd, pick, src, name, res, depth + 1, err);
		goto out;
	}
	if (mt && strcmp(mt, MT_OCI_MANIFEST) && strcmp(mt, MT_DOCKER_MANIFEST)) {
		r = cap_errf(err, 0, "%s: manifest %s has media type %s, not an image manifest", src, mdig, mt);
		goto out;
	}
	json_t *cfg = json_object_get(m, "config"), *layers = json_object_get(m, "layers");
	if (!json_is_object(cfg) || !json_is_array(layers)) {
		r = cap_errf(err, 0, "%s: manifest %s lacks config or layers", src, mdig);
		goto out;
	}
	char cdig[DIGEST_STR_LEN + 1];
	size_t csize, nl = json_array_size(layers);
	if ((r = layout_blob(s, dfd, cfg, src, cdig, &csize, err)) < 0)
		goto out;
	char (*dids)[DIGEST_STR_LEN + 1] = calloc(nl + 1, sizeof(*dids));
	for (size_t k = 0; k < nl && r == 0; k++) {
		char ld[DIGEST_STR_LEN + 1], path[PATH_MAX];
		size_t lsize;
		json_t *ldesc = json_array_get(layers, k);
		if ((r = layout_blob(s, dfd, ldesc, src, ld, &lsize, err)) < 0)
			break;
		json_t *sz = json_object_get(ldesc, "size");
		if (json_is_integer(sz) && (size_t)json_integer_value(sz) != lsize) {
			r = cap_errf(err, 0, "%s: layer %s is %zu bytes, its descriptor says %lld", src, ld, lsize,
				     (long long)json_integer_value(sz));
			break;
		}
		store_blob_path(s, ld, path, sizeof(path));
		r = layer_diff_id(path, dids[k], NULL, err);
	}
	char normed[512], id[DIGEST_STR_LEN + 1];
	const char *names[1];
	size_t nn = 0;
	json_t *ann = json_object_get(desc, "annotations");
	const char *ref = json_string_value(json_object_get(ann, "io.containerd.image.name"));
	if (!ref)
		ref = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
	if (ref && !store_name_valid(ref))
		ref = NULL;
	if (name && store_normalize_name(name, normed, sizeof(normed)) == 0)
		names[nn++] = normed;
	else if (!name && ref && (strchr(ref, '/') || strchr(ref, ':')) &&
		 store_normalize_name(ref, normed, sizeof(normed)) == 0)
		names[nn++] = normed;
	if (r == 0)
		r = image_finish(s, images, src, cdig, csize, layers, dids, mdig, names, nn, id, err);
	free(dids);
	if (r == 0)
		r = add_result(res, id, err);
out:
	json_decref(m);
	return r;
}

static int import_oci(struct store *s, json_t *images, int dfd, const char *src, const char *name,
		      struct import_result *res, cap_err *err)
{
	char *buf;
	size_t len;
	int r = read_in(dfd, "oci-layout", 4096, &buf, &len, src, err);
	if (r < 0)
		return r;
	json_t *lay = json_loadb(buf, len, 0, NULL);
	free(buf);
	const char *v = json_string_value(json_object_get(lay, "imageLayoutVersion"));
	if (!v || strncmp(v, "1.", 2)) {
		json_decref(lay);
		return cap_errf(err, 0, "%s: oci-layout has no imageLayoutVersion 1.x", src);
	}
	json_decref(lay);
	if ((r = read_in(dfd, "index.json", STORE_JSON_MAX, &buf, &len, src, err)) < 0)
		return r;
	json_t *idx = json_loadb(buf, len, 0, NULL);
	free(buf);
	json_t *mans = json_object_get(idx, "manifests");
	if (!json_is_array(mans) || json_array_size(mans) == 0) {
		json_decref(idx);
		return cap_errf(err, 0, "%s: index.json lists no manifests", src);
	}
	if (name && json_array_size(mans) != 1) {
		json_decref(idx);
		return cap_errf(err, 0, "%s: holds %zu images, a NAME fits only one", src, json_array_size(mans));
	}
	size_t i;
	json_t *desc;
	json_array_foreach(mans, i, desc)
		if ((r = oci_manifest(s, images, dfd, desc, src, name, res, 0, err)) < 0)
			break;
	json_decref(idx);
	return r;
}

/* ---- a plain root file system ---- */

static int import_rootfs(struct store *s, json_t *images, const char *path, const char *name,
			 struct import_result *res, cap_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cap_errf(err, errno, "%s", path);
	json_t *desc;
	char did[1][DIGEST_STR_LEN + 1];
	int r = put_layer(s, fd, path, NULL, &desc, did[0], err);
	close(fd);
	if (r < 0)
		return r;
	char when[32], cdig[DIGEST_STR_LEN + 1], id[DIGEST_STR_LEN + 1];
	now_iso(when, sizeof(when));
	json_t *cfg = json_pack("{s:s,s:s,s:s,s:{s:[s]},s:{s:s,s:[s]},s:[{s:s,s:s}]}", "created", when,
				"architecture", image_host_arch(), "os", "linux", "config", "Env", DEFAULT_PATH,
				"rootfs", "type", "layers", "diff_ids", did[0], "history", "created", when,
				"created_by", "capsule image import");
	char *txt = json_dumps(cfg, JSON_COMPACT);
	json_decref(cfg);
	r = txt ? store_put_buf(s, txt, strlen(txt), NULL, cdig, err) : cap_errf(err, ENOMEM, "config");
	size_t csize = txt ? strlen(txt) : 0;
	free(txt);
	json_t *layers = json_array();
	json_array_append_new(layers, desc);
	char normed[512];
	const char *names[1] = { normed };
	size_t nn = name && store_normalize_name(name, normed, sizeof(normed)) == 0 ? 1 : 0;
	if (r == 0)
		r = image_finish(s, images, path, cdig, csize, layers, did, NULL, names, nn, id, err);
	json_decref(layers);
	if (r == 0)
		r = add_result(res, id, err);
	return r;
}

/* ---- entry ---- */

static enum import_type dir_type(int dfd)
{
	if (faccessat(dfd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return IMPORT_OCI;
	if (faccessat(dfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return IMPORT_DOCKER;
	return IMPORT_AUTO;
}

/* What a tar holds at its top: an OCI layout, a docker-archive, or else a root file system. */
static int tar_type(const char *path, enum import_type *t, cap_err *err)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_tar(a);
	*t = IMPORT_ROOTFS;
	int r;
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		r = cap_errf(err, 0, "%s: not a tar archive: %s", path, archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	struct archive_entry *e;
	bool layout = false, docker = false;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		char rel[PATH_MAX];
		const char *n = archive_entry_pathname(e);
		if (!n || normalize_rel_path(n, rel, sizeof(rel)) < 0)
			continue;
		if (!strcmp(rel, "oci-layout"))
			layout = true;
		else if (!strcmp(rel, "manifest.json"))
			docker = true;
	}
	if (r != ARCHIVE_EOF)
		r = cap_errf(err, 0, "%s: not a valid tar archive: %s", path, archive_error_string(a));
	else
		r = 0;
	archive_read_free(a);
	*t = layout ? IMPORT_OCI : docker ? IMPORT_DOCKER : IMPORT_ROOTFS;
	return r;
}

static int merge_images(json_t *images, void *ctx, cap_err *err)
{
	json_t *img;
	size_t i;
	(void)err;
	json_array_foreach(json_object_get((json_t *)ctx, "images"), i, img) {
		json_t *nm = json_object_get(img, "names"), *n;
		const char *names[64];
		size_t k, nn = 0;
		json_array_foreach(nm, k, n)
			if (nn < 64 && json_is_string(n))
				names[nn++] = json_string_value(n);
		store_images_add(images, json_string_value(json_object_get(img, "id")), names, nn);
	}
	return 0;
}

int image_add_names(struct store *s, json_t *pending, cap_err *err)
{
	return store_images_update(s, merge_images, pending, err);
}

int image_import(struct store *s, const char *path, enum import_type type, const char *name,
		 struct import_result *res, cap_err *err)
{
	struct stat st;
	char tmp[PATH_MAX] = "";
	int dfd = -1, r;

	memset(res, 0, sizeof(*res));
	if (stat(path, &st) < 0)
		return cap_errf(err, errno, "%s", path);
	/* the images this import names, merged into images.json at the end */
	json_t *images = json_pack("{s:[]}", "images");
	if (!images)
		return cap_errf(err, ENOMEM, "%s", path);
	if (S_ISDIR(st.st_mode)) {
		if (type == IMPORT_ROOTFS) {
			r = cap_errf(err, 0, "%s: a root file system is imported from a tarball, not a directory", path);
			goto out;
		}
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			r = cap_errf(err, errno, "%s", path);
			goto out;
		}
		enum import_type t = dir_type(dfd);
		if (type == IMPORT_AUTO)
			type = t;
		if (type == IMPORT_AUTO) {
			r = cap_errf(err, 0, "%s: neither an OCI layout (oci-layout) nor a docker-archive (manifest.json)", path);
			goto out;
		}
	} else {
		enum import_type t = IMPORT_ROOTFS;
		if (type != IMPORT_ROOTFS && (r = tar_type(path, &t, err)) < 0)
			goto out;
		if (type == IMPORT_AUTO)
			type = t;
		if (type == IMPORT_ROOTFS) {
			r = import_rootfs(s, images, path, name, res, err);
			goto save;
		}
		/* The archive is unpacked by the layer extractor (so it cannot write outside
		 * the temporary directory) and imported from there. */
		if ((r = store_tmpdir(s, "import", tmp, sizeof(tmp), err)) < 0)
			goto out;
		dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			r = cap_errf(err, errno, "%s", tmp);
			goto out;
		}
		if ((r = layer_extract_file(path, NULL, dfd, LAYER_APPLY, NULL, err)) < 0)
			goto out;
	}
	r = type == IMPORT_OCI ? import_oci(s, images, dfd, path, name, res, err)
			       : import_docker(s, images, dfd, path, name, res, err);
save:
	if (r == 0)
		r = image_add_names(s, images, err);
out:
	if (dfd >= 0)
		close(dfd);
	if (*tmp)
		remove_tree(tmp);
	json_decref(images);
	return r;
}
