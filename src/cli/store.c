/* The image store the engine commands open: `capsule --root DIR` (before the noun) or
 * `capsule image --root DIR`, else $CAPSULE_STORE_ROOT, else /var/lib/capsule. */
#include <errno.h>
#include <stddef.h>

#include "../image/store.h"
#include "commands.h"

static const char *store_root;

void cli_set_store_root(const char *root)
{
	store_root = root;
}

int cli_store_prepare(const struct cli_args *a, cap_err *err)
{
	(void)err;
	const char *r = cli_str(a, "root");
	if (r)
		store_root = r;
	return 0;
}

int cli_store_open(struct store *s, bool exclusive, cap_err *err)
{
	return store_open(s, store_root, exclusive, err);
}

const char *cli_store_root(void)
{
	return store_root ? store_root : store_default_root();
}
