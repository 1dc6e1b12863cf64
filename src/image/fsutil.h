/* File-system helpers the store and the extractor share: every path below a root is
 * resolved with openat2(RESOLVE_IN_ROOT), so neither ".." nor a symlink reaches outside it. */
#ifndef CAPSULE_IMAGE_FSUTIL_H
#define CAPSULE_IMAGE_FSUTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>

/* openat2(dirfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV):
 * path is resolved as if dirfd were "/". -errno on failure. */
int open_in_root(int rootfd, const char *path, int flags, int mode);
/* Like open_in_root, but ".." and absolute symlinks are refused (EXDEV) instead of clamped. */
int open_beneath(int dirfd, const char *path, int flags, int mode);

/* Remove name under dirfd and, for a directory, everything in it; symlinks are never
 * followed. A missing name is no error. -errno on failure. */
int remove_tree_at(int dirfd, const char *name);
/* remove_tree_at(AT_FDCWD, path). */
int remove_tree(const char *path);
/* A directory stream of dirfd's directory on a new descriptor (dirfd stays open and
 * unmoved); NULL with errno set on failure. */
DIR *dir_open_at(int dirfd);
/* Remove everything inside the directory dirfd, keeping it. */
int empty_dir_at(int dirfd);

/* Normalise a path from an archive: leading "/" and "./" go, "." components and repeated
 * slashes collapse. -EINVAL when a component is ".." or the result does not fit. "" is the
 * root itself. */
int normalize_rel_path(const char *in, char *out, size_t sz);

/* Write len bytes to fd, retrying short writes. */
int write_all(int fd, const void *buf, size_t len);
/* The whole of a regular file (at most max bytes) into a malloc'd NUL-terminated buffer;
 * anything else is -EINVAL, a larger file -EFBIG. */
int read_fd_all(int fd, size_t max, char **out, size_t *len);
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len);

#endif
