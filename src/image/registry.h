/* The OCI distribution protocol (registry HTTP API v2): pull an image into the store, push one
 * from it. Plain HTTP for registries on loopback and when tls_verify is false (podman's
 * --tls-verify=false); HTTPS with the system CA store otherwise. Anonymous bearer tokens
 * (WWW-Authenticate: Bearer realm=...) are fetched as a registry asks for them. Every manifest
 * and blob is verified against its digest; nothing is named until the whole image is in. */
#ifndef CAPSULE_IMAGE_REGISTRY_H
#define CAPSULE_IMAGE_REGISTRY_H

#include <stdbool.h>

#include "store.h"

/* A reference: [HOST[:PORT]/]REPO[:TAG][@DIGEST]; no host is docker.io (library/ for one
 * component). */
struct image_ref {
	char host[256];        /* as named (docker.io) */
	char api_host[256];    /* where the API is (registry-1.docker.io) */
	char repo[512];
	char tag[129];
	char digest[DIGEST_STR_LEN + 1];
	char name[1024];       /* HOST/REPO:TAG, the image's name in the store */
};
int image_ref_parse(const char *s, struct image_ref *r, cap_err *err);

/* Pull ref into the store; id gets the image's id (its manifest digest). */
int registry_pull(struct store *s, const char *ref, bool tls_verify, char id[DIGEST_STR_LEN + 1], cap_err *err);
/* Push the stored image (a name or id) to dest (a reference; NULL: the image's name). */
int registry_push(struct store *s, const char *image, const char *dest, bool tls_verify, char id[DIGEST_STR_LEN + 1],
		  cap_err *err);

#endif
