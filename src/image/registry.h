/* The OCI distribution protocol (registry HTTP API v2): pull an image into the store, push one
 * from it. Plain HTTP for registries on loopback and when tls_verify is false (podman's
 * --tls-verify=false); HTTPS with the system CA store otherwise ($SSL_CERT_FILE names another
 * CA file). A registry that answers 401 gets what its WWW-Authenticate asks for: basic auth
 * with the credentials of the auth file (capsule login), or a bearer token fetched from its
 * realm (with those credentials when there are some, anonymous otherwise), a new one for each
 * new scope. Every manifest and blob is verified against its digest; nothing is named until the
 * whole image is in. */
#ifndef CAPSULE_IMAGE_REGISTRY_H
#define CAPSULE_IMAGE_REGISTRY_H

#include <stdbool.h>

#include "authfile.h"
#include "store.h"

struct registry_opts {
	bool tls_verify;            /* false: plain HTTP, no certificate checks (--tls-verify=false) */
	bool tls_required;          /* --tls-verify=true given: HTTPS even on loopback */
	char authfile[4096];        /* the credentials (authfile.h); "" for none */
};

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
int registry_pull(struct store *s, const char *ref, const struct registry_opts *o, char id[DIGEST_STR_LEN + 1],
		  cap_err *err);
/* Push the stored image (a name or id) to dest (a reference; NULL: the image's name). */
int registry_push(struct store *s, const char *image, const char *dest, const struct registry_opts *o,
		  char id[DIGEST_STR_LEN + 1], cap_err *err);
/* Check creds against the registry host (HOST[:PORT], docker.io) with GET /v2/: 0 when it lets
 * them in (or needs none), negative with one line naming the host and the reason otherwise. */
int registry_login(const char *host, const struct registry_opts *o, const struct reg_creds *creds, cap_err *err);

#endif
