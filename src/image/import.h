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

/* The OCI platform names of this host ("amd64", "arm64", ...). */
const char *image_host_arch(void);

#endif
