/* The build recipe (Capsulefile; a Dockerfile reads the same): parsed into instructions, each
 * with its line, before anything runs. Comments (#) and blank lines go; a line ending in '\'
 * goes on with the next; keywords are case-insensitive. RUN, CMD, ENTRYPOINT, COPY, ADD and
 * VOLUME take the exec form (a JSON array of strings) or the shell form; COPY and ADD take
 * --chown=USER[:GROUP] and (COPY) --from=STAGE; FROM takes IMAGE [AS NAME]. Variables ($X,
 * ${X}, ${X:-default}, ${X:+alt}) are left in the text: the builder substitutes them (recipe_expand)
 * where docker does, with the ARG and ENV values in force at that step. A malformed line is
 * "FILE:LINE: reason". The input is hostile (a recipe from anywhere): the parser is a libFuzzer
 * target (tests/fuzz/fuzz_recipe.c). */
#ifndef CAPSULE_ENGINE_RECIPE_H
#define CAPSULE_ENGINE_RECIPE_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/error.h"

enum recipe_op {
	RECIPE_FROM, RECIPE_RUN, RECIPE_COPY, RECIPE_ADD, RECIPE_ENV, RECIPE_ARG, RECIPE_WORKDIR, RECIPE_USER,
	RECIPE_ENTRYPOINT, RECIPE_CMD, RECIPE_LABEL, RECIPE_EXPOSE, RECIPE_VOLUME,
};

struct recipe_insn {
	enum recipe_op op;
	int line;
	char *text;        /* the instruction as written (continuations joined), for history and the cache */
	bool exec_form;    /* args came from a JSON array */
	char **args;       /* exec form: the array; shell form of RUN/CMD/ENTRYPOINT: one string; COPY/ADD:
			    * sources then the destination; ENV/LABEL/ARG: KEY then VALUE pairs (ARG: value
			    * NULL when it has no default); FROM: the image; others: their words */
	size_t nargs;
	char *chown;       /* COPY/ADD --chown */
	char *from;        /* COPY --from */
	char *as;          /* FROM ... AS name */
};

struct recipe {
	struct recipe_insn *v;
	size_t n;
};

int recipe_parse(const char *text, size_t len, const char *file, struct recipe *r, cap_err *err);
void recipe_free(struct recipe *r);
const char *recipe_op_name(enum recipe_op op);

/* Substitute $X / ${X} / ${X:-d} / ${X:+a} (\$ is a literal $) with lookup(name) (NULL: empty).
 * A malloc'd string, or NULL with err set ("FILE:LINE: ..." from where). */
typedef const char *(*recipe_lookup)(const char *name, void *ctx);
char *recipe_expand(const char *s, recipe_lookup lookup, void *ctx, const char *where, cap_err *err);

#endif
