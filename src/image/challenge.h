/* WWW-Authenticate (RFC 7235) as registries send it: one or more challenges, each a scheme and
 * auth-params (token or quoted-string values). The header comes from the network, so nothing in
 * it is trusted: a value that does not fit, a control character or a malformed list refuses the
 * challenge instead of being cut or guessed at. */
#ifndef CAPSULE_IMAGE_CHALLENGE_H
#define CAPSULE_IMAGE_CHALLENGE_H

#include <stddef.h>

enum auth_scheme { AUTH_SCHEME_NONE, AUTH_SCHEME_BASIC, AUTH_SCHEME_BEARER, AUTH_SCHEME_OTHER };

struct auth_challenge {
	enum auth_scheme scheme;
	char other[32];         /* the scheme's name when AUTH_SCHEME_OTHER (for the message) */
	char realm[1024];
	char service[256];
	char scope[1024];
	char error[64];         /* Bearer's error="insufficient_scope" etc. */
};

/* Parse a header value; the challenge kept is the first Bearer, else the first Basic, else the
 * first of another scheme. Returns 0, or -EINVAL when the header is malformed or a parameter
 * the caller uses (realm, service, scope, error) is too long. */
int auth_challenge_parse(const char *hdr, size_t len, struct auth_challenge *out);

#endif
