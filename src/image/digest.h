/* sha256 content digests ("sha256:<64 hex>") over nettle, and the checks a digest string
 * from an image (hostile input) must pass before it names a file in the store. */
#ifndef CAPSULE_IMAGE_DIGEST_H
#define CAPSULE_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <nettle/sha2.h>

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN)   /* "sha256:" + hex, without the NUL */

struct digester {
	struct sha256_ctx ctx;
};

void digester_init(struct digester *d);
void digester_update(struct digester *d, const void *buf, size_t n);
/* Writes "sha256:<hex>" (DIGEST_STR_LEN + 1 bytes) into out. */
void digester_final(struct digester *d, char out[DIGEST_STR_LEN + 1]);
void digest_buffer(const void *buf, size_t n, char out[DIGEST_STR_LEN + 1]);

/* "sha256:" followed by exactly 64 lowercase hex digits: nothing else may name a blob. */
bool digest_valid(const char *s);
/* The hex part of a valid digest. */
static inline const char *digest_hex(const char *d) { return d + 7; }

#endif
