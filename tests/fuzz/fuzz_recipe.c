// fuzz-sources: src/engine/recipe.c src/lib/error.c src/lib/log.c
/* libFuzzer target: the build recipe parser (src/engine/recipe.c) on arbitrary bytes, then
 * variable substitution of every argument with a lookup that knows a few names. A parse either
 * fails with one "FILE:LINE: ..." message or gives instructions whose every field is sane. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/engine/recipe.h"

static const char *lookup(const char *name, void *ctx)
{
	(void)ctx;
	if (!strcmp(name, "A"))
		return "alpha";
	if (!strcmp(name, "EMPTY"))
		return "";
	if (!strcmp(name, "LONG"))
		return "0123456789012345678901234567890123456789";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recipe r;
	cap_err err = { 0 };
	if (recipe_parse((const char *)data, size, "Capsulefile", &r, &err) < 0) {
		if (!err.set || strncmp(err.msg, "Capsulefile", 11))
			abort(); /* a failure always names the file */
		return 0;
	}
	if (r.n == 0)
		abort();
	for (size_t i = 0; i < r.n; i++) {
		struct recipe_insn *in = &r.v[i];
		if (!in->text || in->line < 1)
			abort();
		for (size_t k = 0; k < in->nargs; k++) {
			if (!in->args[k])
				continue; /* ARG without a default */
			cap_err e2 = { 0 };
			char *x = recipe_expand(in->args[k], lookup, NULL, "Capsulefile:1", &e2);
			if (!x && !e2.set)
				abort();
			free(x);
		}
	}
	recipe_free(&r);
	return 0;
}
