/* Layer tarballs (plain, gzip, zstd, xz, bzip2) read with libarchive and written below a
 * root directory that nothing in the layer can climb out of: names with ".." are refused,
 * every parent is resolved inside the root (openat2 RESOLVE_IN_ROOT, so a symlink in the
 * layer is followed as the container would see it, never to the host), the last component
 * is created without following anything, and hard links must point inside the root. */
#ifndef CAPSULE_IMAGE_LAYER_H
#define CAPSULE_IMAGE_LAYER_H

#include <stddef.h>

#include "../lib/error.h"
#include "digest.h"

enum layer_mode {
	/* Whiteouts delete what they name (a flattened root file system). */
	LAYER_APPLY,
	/* Whiteouts become overlayfs markers (a 0:0 character device, the opaque xattr), so
	 * that the directory can be a lowerdir of an overlay mount. */
	LAYER_OVERLAY,
};

struct progress;

struct layer_stats {
	size_t entries, bytes;
	struct progress *progress;   /* may be NULL: where unpacking reports (compressed bytes read) */
	unsigned long long in_size;  /* the input's size, for progress (0: unknown) */
	char label[64];              /* the progress line's name for this layer */
};

/* Extract the layer in file path into the directory rootfd; what names it in errors (NULL:
 * the path). */
int layer_extract_file(const char *path, const char *what, int rootfd, enum layer_mode mode,
		       struct layer_stats *st, cap_err *err);
/* The same from memory (the fuzz target). */
int layer_extract_mem(const void *buf, size_t len, int rootfd, enum layer_mode mode,
		      struct layer_stats *st, cap_err *err);

/* The digest of the decompressed stream (the layer's diff id) and its compression
 * ("none", "gzip", "zstd", "xz", "bzip2"; a static string). */
int layer_diff_id(const char *path, char diff_id[DIGEST_STR_LEN + 1], const char **compression,
		  cap_err *err);

/* Decompress path into the file descriptor out (docker-archive export). */
int layer_decompress_to(const char *path, int out, cap_err *err);

#endif
