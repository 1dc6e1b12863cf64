/* An image's root file system, flattened into a directory (what `umoci unpack` makes): its
 * layers applied in order, whiteouts deleting what they name. */
#ifndef CAPSULE_IMAGE_UNPACK_H
#define CAPSULE_IMAGE_UNPACK_H

#include "store.h"

/* dest must not exist, or be an empty directory; on failure what was written goes again. */
int image_unpack(struct store *s, const char *ref, const char *dest, cap_err *err);

#endif
