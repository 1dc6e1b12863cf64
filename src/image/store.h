/* The local content-addressed image store (docs/image-store.md has the layout):
 *
 *   ROOT/lock                 flock: shared by every command that reads or adds, exclusive
 *                             for those that delete (rm, prune), so that nothing is removed
 *                             under a reader or a running import
 *   ROOT/images.lock          flock, exclusive around each read-modify-write of images.json
 *   ROOT/blobs/sha256/HEX     manifests, configs, layers, named by the sha256 of their bytes
 *   ROOT/layers/HEX           a layer (named by its diff id) unpacked for overlayfs
 *   ROOT/images.json          the images: manifest digest, names (name:tag), when added
 *   ROOT/tmp/                 everything being written; renamed into place when complete
 *
 * Nothing is visible until it is complete and verified (temp file + rename), and
 * images.json is rewritten last, so an interrupted import leaves at most unreferenced blobs,
 * unpacked layers and temp files, which store_gc removes. */
#ifndef CAPSULE_IMAGE_STORE_H
#define CAPSULE_IMAGE_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "../lib/error.h"
#include "digest.h"

#define STORE_DEFAULT_ROOT "/var/lib/capsule"
#define STORE_ROOT_ENV "CAPSULE_STORE_ROOT"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* Bounds on JSON documents read from images (hostile input). */
#define STORE_JSON_MAX (4u << 20)

struct progress;

struct store {
	char root[PATH_MAX];
	int lock_fd;
	struct progress *progress;   /* NULL, or where blob copies and layer unpacks report */
};

/* The store's root: $CAPSULE_STORE_ROOT, else STORE_DEFAULT_ROOT. */
const char *store_default_root(void);
/* Open (creating it when missing) and lock the store: shared to read or add, exclusive to
 * delete. */
int store_open(struct store *s, const char *root, bool exclusive, cap_err *err);
void store_close(struct store *s);

/* ROOT/<fmt...> into buf. */
int store_path(const struct store *s, char *buf, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int store_blob_path(const struct store *s, const char *digest, char *buf, size_t sz);
bool store_has_blob(const struct store *s, const char *digest);

/* Copy the file (or fd) into the store as a blob. expect (may be NULL): the digest it must
 * have, else nothing is stored and the error says so. *digest and *size get what was stored. */
int store_put_fd(struct store *s, int fd, const char *what, const char *expect,
		 char digest[DIGEST_STR_LEN + 1], size_t *size, cap_err *err);
int store_put_buf(struct store *s, const void *buf, size_t len, const char *expect,
		  char digest[DIGEST_STR_LEN + 1], cap_err *err);
/* A blob written as it arrives (a download): bytes go to a temporary file and the digest;
 * commit checks it against expect and renames it into place, abort removes it. reset starts
 * over (a server that ignored a Range request). */
struct store_writer {
	int fd;
	char tmp[PATH_MAX];
	struct digester d;
	unsigned long long size;
};
int store_writer_open(struct store *s, struct store_writer *w, cap_err *err);
int store_writer_write(struct store_writer *w, const void *buf, size_t n);
int store_writer_reset(struct store_writer *w);
int store_writer_commit(struct store *s, struct store_writer *w, const char *what, const char *expect,
			char digest[DIGEST_STR_LEN + 1], cap_err *err);
void store_writer_abort(struct store_writer *w);

/* A JSON blob, its digest checked on read. */
json_t *store_read_json(const struct store *s, const char *digest, cap_err *err);

/* A directory under ROOT/tmp for a writer (mkdtemp), path into buf. */
int store_tmpdir(const struct store *s, const char *prefix, char *buf, size_t sz, cap_err *err);

/* images.json: {"images":[{"id":..., "names":[...], "added":...}]}. */
json_t *store_images_load(const struct store *s, cap_err *err);
/* Load images.json under ROOT/images.lock, let fn change it, and save it (atomically) when
 * fn returns 0. Any change to the image list goes through here. */
int store_images_update(struct store *s, int (*fn)(json_t *images, void *ctx, cap_err *err), void *ctx,
			cap_err *err);
/* Add names to the image id (creating its entry); each name leaves any other image. */
int store_images_add(json_t *images, const char *id, const char *const *names, size_t n);
/* The image entry a reference names: "name[:tag]" (":latest" added), a full id, or a
 * unique prefix of an id's hex (at least 4 digits). NULL with err filled otherwise. */
json_t *store_images_find(json_t *images, const char *ref, cap_err *err);
/* NAME[:TAG] as a user may give it: [a-z0-9._/-] path components (a first component with a
 * dot or a port, or "localhost", is a registry host and may also have A-Z), an optional tag of [A-Za-z0-9_.-] (at most 128), no digest. */
bool store_name_valid(const char *name);
/* Whether a stored name is what the normalised name (store_normalize_name) means: itself,
 * or localhost/NAME, docker.io/NAME, docker.io/library/NAME. */
bool store_name_matches(const char *stored, const char *name);
/* "name" -> "name:latest"; a digest reference stays. Into buf. */
int store_normalize_name(const char *ref, char *buf, size_t sz);

/* An image as the export and unpack paths need it. */
struct store_image {
	char id[DIGEST_STR_LEN + 1];     /* the manifest's digest */
	json_t *manifest, *config;
	size_t n_layers;
	char (*layers)[DIGEST_STR_LEN + 1];   /* blob digests */
	char (*diff_ids)[DIGEST_STR_LEN + 1];
};
int store_image_load(const struct store *s, const char *id, struct store_image *img, cap_err *err);
void store_image_free(struct store_image *img);

/* Unpack the layer blob (diff id already verified) into ROOT/layers/HEX(diff_id) for overlay. */
int store_unpack_layer(struct store *s, const char *blob, const char *diff_id, cap_err *err);
int store_layer_dir(const struct store *s, const char *diff_id, char *buf, size_t sz);

/* Remove blobs, unpacked layers and temp files nothing references (the store must be open
 * exclusively). Counts what went. */
struct store_gc_stats {
	size_t blobs, layers, tmp;
	unsigned long long bytes;
};
int store_gc(struct store *s, struct store_gc_stats *st, cap_err *err);

#endif
