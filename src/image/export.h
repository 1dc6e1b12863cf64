/* Images out of the store: an OCI image layout (a directory, or a tar when the path ends
 * in ".tar") or a docker-archive tar that `podman load` and `docker load` read. Written to
 * a temporary name beside the destination and renamed when complete. */
#ifndef CAPSULE_IMAGE_EXPORT_H
#define CAPSULE_IMAGE_EXPORT_H

#include "store.h"

enum export_type { EXPORT_OCI, EXPORT_DOCKER };

int image_export(struct store *s, const char *ref, enum export_type type, const char *dest, cap_err *err);

#endif
