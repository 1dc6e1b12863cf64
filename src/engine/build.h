/* capsule build: a recipe (recipe.h) and a context directory become an image in the store.
 *
 * Each stage starts from its FROM image (in the store, else pulled) or scratch. RUN runs in a container of
 * the runtime library on an overlay of the stage's layers with a fresh upper directory; COPY and
 * ADD write into such an overlay (paths resolved inside the root, never through one of its
 * symlinks to the host; the context's .capsuleignore or .dockerignore honoured); the upper
 * directory is then the step's layer (diff.h). ENV, ARG, WORKDIR, USER, ENTRYPOINT, CMD, LABEL,
 * EXPOSE and VOLUME change the image config. Every layer step is cached under a key over its
 * parent's key, the instruction after substitution, the config it runs with and (COPY/ADD) the
 * bytes, names and modes of its sources: a rebuild with nothing changed reuses every layer.
 * COPY --from=STAGE reads another stage's root. The last stage is the image: its id (the
 * manifest digest) is returned and, with a tag, named. A failing step is "FILE:LINE: reason";
 * a failed RUN has shown its output and leaves no container or mount. */
#ifndef CAPSULE_ENGINE_BUILD_H
#define CAPSULE_ENGINE_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "../image/digest.h"
#include "../image/store.h"
#include "../lib/error.h"

struct registry_opts;

struct engine_build_args {
	const char *context;               /* a directory */
	const char *file;                  /* NULL: CONTEXT/Capsulefile, else CONTEXT/Dockerfile */
	const char *tag;                   /* NAME[:TAG] or NULL */
	const char *const *build_args;     /* KEY=VALUE */
	size_t n_build_args;
	bool no_cache;
	bool quiet;                        /* no step lines on stderr */
	const struct registry_opts *pull;  /* a FROM image the store lacks is pulled with these; NULL: refused */
};

int engine_build(struct store *s, const struct engine_build_args *a, char id[DIGEST_STR_LEN + 1], cap_err *err);

#endif
