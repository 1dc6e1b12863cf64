/* Images into the store: an OCI image layout (directory or tar), a docker-archive
 * (`podman save` / `docker save`: directory or tar), or a plain root file system tarball.
 * Every blob is copied with its digest verified (a layout's descriptors, a docker-archive's
 * config name, every layer's diff id against the config); nothing is named in images.json
 * until all of it is in place. The store must be open (shared is enough: blobs and layers
 * land by rename, images.json changes under its own lock). */
#ifndef CAPSULE_IMAGE_IMPORT_H
#define CAPSULE_IMAGE_IMPORT_H

#include <stddef.h>

#include "store.h"

enum import_type { IMPORT_AUTO, IMPORT_OCI, IMPORT_DOCKER, IMPORT_ROOTFS };

struct import_result {
	size_t n;
	char ids[16][DIGEST_STR_LEN + 1];   /* the images imported (a layout or archive may hold several) */
};

/* name (may be NULL): NAME[:TAG] for the image (required to be single when given). */
int image_import(struct store *s, const char *path, enum import_type type, const char *name,
		 struct import_result *res, cap_err *err);

/* The image's config and layers are in the store: check every layer's diff id against the
 * config, unpack the layers, store the manifest (one is made when manifest_digest is NULL)
 * and add the image with its names to images (a {"images":[]} merged by image_add_names).
 * src names the input in errors. */
int image_finish(struct store *s, json_t *images, const char *src, const char *config_digest, size_t config_size,
		 json_t *layers, char (*diff_ids)[DIGEST_STR_LEN + 1], const char *manifest_digest,
		 const char *const *names, size_t n_names, char id[DIGEST_STR_LEN + 1], cap_err *err);
/* Merge the images an image_finish collected into the store's images.json. */
int image_add_names(struct store *s, json_t *pending, cap_err *err);
/* Pick the manifest for linux/host architecture from an index's descriptor (NULL: none). */
json_t *image_pick_platform(json_t *index);

/* The OCI platform names of this host ("amd64", "arm64", ...). */
const char *image_host_arch(void);

#endif
