/* capsule build (capsule image build): a recipe and a context into an image of the store. */
#include <stdio.h>
#include <stdlib.h>

#include "../engine/build.h"
#include "../image/progress.h"
#include "../image/registry.h"
#include "../image/store.h"
#include "commands.h"

int cli_image_build(const struct cli_args *a, cap_err *err)
{
	size_t n = 0;
	const char **ba = cli_all(a, "build-arg", &n);
	struct engine_build_args b = { .context = a->argv[0], .file = cli_str(a, "file"), .tag = cli_str(a, "tag"),
				       .build_args = ba, .n_build_args = n, .no_cache = cli_flag(a, "no-cache"),
				       .quiet = cli_flag(a, "quiet") };
	struct registry_opts o;
	if (cli_registry_opts(a, &o, err) < 0) {
		free(ba);
		return -1;
	}
	b.pull = &o;
	struct store s;
	char id[DIGEST_STR_LEN + 1];
	int r = cli_store_open(&s, false, err);
	if (r == 0) {
		struct progress pg;
		progress_init(&pg);
		s.progress = &pg;
		r = engine_build(&s, &b, id, err);
		progress_end(&pg);
		if (r == 0)
			printf("%s\n", id);
		store_close(&s);
	}
	free(ba);
	return r < 0 ? -1 : 0;
}
