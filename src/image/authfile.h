/* Registry credentials in an auth file of the containers-auth.json shape podman, skopeo and
 * docker read and write: {"auths": {"HOST[:PORT][/REPO]": {"auth": base64("USER:PASSWORD")}}}.
 * Which file: --authfile, else $REGISTRY_AUTH_FILE (podman's variable), else ROOT/auth.json
 * beside the image store. Written atomically, mode 0600, keys and members this code does not
 * know (podman's credHelpers, an identitytoken) kept as they were. */
#ifndef CAPSULE_IMAGE_AUTHFILE_H
#define CAPSULE_IMAGE_AUTHFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/error.h"

#define AUTHFILE_ENV "REGISTRY_AUTH_FILE"

struct reg_creds {
	bool set;
	char user[256];
	char pass[512];
};

/* The auth file to use: given (non-NULL), else $REGISTRY_AUTH_FILE, else STORE_ROOT/auth.json. */
int authfile_path(char *buf, size_t sz, const char *given, const char *store_root);
/* The credentials for HOST (and REPO: a "HOST/REPO" or "HOST/REPO-PREFIX" key wins over
 * "HOST", the longest first, as containers-auth.json(5) says). Returns 1 found, 0 none (no
 * file is none), negative with err filled for an unreadable or malformed file. */
int authfile_get(const char *path, const char *host, const char *repo, struct reg_creds *c, cap_err *err);
/* Store USER:PASSWORD under key. */
int authfile_set(const char *path, const char *key, const char *user, const char *pass, cap_err *err);
/* Remove key (NULL: every key). Returns 1 when something went, 0 when it was not there. */
int authfile_remove(const char *path, const char *key, cap_err *err);

/* base64 of "user:pass" into a malloc'd string (NULL: no memory). */
char *authfile_encode(const char *user, const char *pass);

#endif
