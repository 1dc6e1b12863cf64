/* capsule image import|export|unpack|ls|inspect|rm|tag|prune: the local image store
 * (src/image/). Listings print a table, or JSON with --format json. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../image/export.h"
#include "../image/import.h"
#include "../image/progress.h"
#include "../image/registry.h"
#include "../image/store.h"
#include "../image/unpack.h"
#include "commands.h"

static void print_json(json_t *j)
{
	char *t = json_dumps(j, JSON_INDENT(4));
	if (t)
		printf("%s\n", t);
	free(t);
}

static bool want_json(const struct cli_args *a)
{
	const char *f = cli_str(a, "format");
	return f && !strcmp(f, "json");
}

int cli_image_import(const struct cli_args *a, cap_err *err)
{
	const char *type = cli_str(a, "type"), *name = a->argc > 1 ? a->argv[1] : NULL;
	enum import_type t = IMPORT_AUTO;
	if (type && !strcmp(type, "oci"))
		t = IMPORT_OCI;
	else if (type && !strcmp(type, "docker-archive"))
		t = IMPORT_DOCKER;
	else if (type && !strcmp(type, "rootfs"))
		t = IMPORT_ROOTFS;
	if (name && !store_name_valid(name))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "image import: '%.200s' is not a valid NAME[:TAG]", name);
	struct store s;
	if (cli_store_open(&s, false, err) < 0)
		return -1;
	struct import_result res;
	struct progress pg;
	progress_init(&pg);
	s.progress = &pg;
	int r = image_import(&s, a->argv[0], t, name, &res, err);
	progress_end(&pg);
	store_close(&s);
	if (r < 0)
		return -1;
	for (size_t i = 0; i < res.n; i++)
		printf("%s\n", res.ids[i]);
	return 0;
}

int cli_image_pull(const struct cli_args *a, cap_err *err)
{
	struct registry_opts o;
	if (cli_registry_opts(a, &o, err) < 0)
		return -1;
	struct store s;
	if (cli_store_open(&s, false, err) < 0)
		return -1;
	struct progress pg;
	progress_init(&pg);
	s.progress = &pg;
	char id[DIGEST_STR_LEN + 1];
	int r = registry_pull(&s, a->argv[0], &o, id, err);
	progress_end(&pg);
	store_close(&s);
	if (r < 0)
		return -1;
	printf("%s\n", id);
	return 0;
}

int cli_image_push(const struct cli_args *a, cap_err *err)
{
	struct registry_opts o;
	if (cli_registry_opts(a, &o, err) < 0)
		return -1;
	struct store s;
	if (cli_store_open(&s, false, err) < 0)
		return -1;
	struct progress pg;
	progress_init(&pg);
	s.progress = &pg;
	char id[DIGEST_STR_LEN + 1];
	int r = registry_push(&s, a->argv[0], a->argc > 1 ? a->argv[1] : NULL, &o, id, err);
	progress_end(&pg);
	store_close(&s);
	if (r < 0)
		return -1;
	printf("%s\n", id);
	return 0;
}

int cli_image_export(const struct cli_args *a, cap_err *err)
{
	const char *type = cli_str(a, "type");
	enum export_type t = type && !strcmp(type, "docker-archive") ? EXPORT_DOCKER : EXPORT_OCI;
	struct store s;
	if (cli_store_open(&s, false, err) < 0)
		return -1;
	int r = image_export(&s, a->argv[0], t, a->argv[1], err);
	store_close(&s);
	return r < 0 ? -1 : 0;
}

int cli_image_unpack(const struct cli_args *a, cap_err *err)
{
	struct store s;
	if (cli_store_open(&s, false, err) < 0)
		return -1;
	int r = image_unpack(&s, a->argv[0], a->argv[1], err);
	store_close(&s);
	return r < 0 ? -1 : 0;
}

static long long image_size(json_t *manifest)
{
	long long n = json_integer_value(json_object_get(json_object_get(manifest, "config"), "size"));
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(manifest, "layers"), i, l)
		n += json_integer_value(json_object_get(l, "size"));
	return n;
}

static void human(long long n, char *buf, size_t sz)
{
	static const char *const u[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	int i = 0;
	if (n < 0) {
		snprintf(buf, sz, "?");
		return;
	}
	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(buf, sz, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

int cli_image_ls(const struct cli_args *a, cap_err *err)
{
	bool js = want_json(a), quiet = cli_flag(a, "quiet");
	struct store s;
	if (cli_store_open(&s, false, err) < 0)
		return -1;
	json_t *images = store_images_load(&s, err);
	if (!images) {
		store_close(&s);
		return -1;
	}
	json_t *out = json_array(), *img;
	size_t i;
	if (!js && !quiet)
		printf("%-40s %-12s %-12s %-20s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "ADDED", "SIZE");
	json_array_foreach(json_object_get(images, "images"), i, img) {
		const char *id = json_string_value(json_object_get(img, "id"));
		if (!digest_valid(id))
			continue;
		cap_err e = { 0 };
		json_t *m = store_read_json(&s, id, &e);
		long long size = m ? image_size(m) : -1;
		json_decref(m);
		json_t *names = json_object_get(img, "names");
		const char *added = json_string_value(json_object_get(img, "added")) ?: "";
		if (js) {
			json_array_append_new(out, json_pack("{s:s,s:O,s:s,s:I}", "Id", id, "Names", names, "Added",
							     added, "Size", (json_int_t)size));
			continue;
		}
		if (quiet) {
			printf("%.12s\n", digest_hex(id));
			continue;
		}
		char hs[32];
		human(size, hs, sizeof(hs));
		size_t k;
		json_t *n;
		if (json_array_size(names) == 0)
			printf("%-40s %-12s %-12.12s %-20s %s\n", "<none>", "<none>", digest_hex(id), added, hs);
		json_array_foreach(names, k, n) {
			const char *nm = json_string_value(n) ?: "";
			const char *slash = strrchr(nm, '/'), *colon = strrchr(slash ? slash : nm, ':');
			int rl = colon ? (int)(colon - nm) : (int)strlen(nm);
			printf("%-40.*s %-12s %-12.12s %-20s %s\n", rl, nm, colon ? colon + 1 : "", digest_hex(id),
			       added, hs);
		}
	}
	if (js)
		print_json(out);
	json_decref(out);
	json_decref(images);
	store_close(&s);
	return 0;
}

int cli_image_inspect(const struct cli_args *a, cap_err *err)
{
	struct store s;
	if (cli_store_open(&s, false, err) < 0)
		return -1;
	int r = 0;
	json_t *images = store_images_load(&s, err), *out = json_array();
	if (!images)
		r = -1;
	for (int i = 0; r == 0 && i < a->argc; i++) {
		json_t *img = store_images_find(images, a->argv[i], err);
		struct store_image si;
		if (!img || store_image_load(&s, json_string_value(json_object_get(img, "id")), &si, err) < 0) {
			r = -1;
			break;
		}
		json_array_append_new(out, json_pack("{s:s,s:O,s:O,s:I,s:O,s:O}", "Id", si.id, "Names",
						     json_object_get(img, "names"), "Added", json_object_get(img, "added"),
						     "Size", (json_int_t)image_size(si.manifest), "Manifest", si.manifest,
						     "Config", si.config));
		store_image_free(&si);
	}
	if (r == 0)
		print_json(out);
	json_decref(out);
	json_decref(images);
	store_close(&s);
	return r;
}

struct rm_ctx {
	const struct cli_args *a;
	json_t *said;   /* the lines to print once the change is saved */
};

/* A name removes that name; an id (or the image's last name) removes the image. All or
 * nothing: an unknown image changes nothing. */
static int rm_images(json_t *images, void *ctx, cap_err *err)
{
	struct rm_ctx *c = ctx;
	for (int i = 0; i < c->a->argc; i++) {
		const char *ref = c->a->argv[i];
		json_t *img = store_images_find(images, ref, err);
		if (!img)
			return -ENOENT;
		char name[1024];
		json_t *names = json_object_get(img, "names");
		bool by_name = false;
		store_normalize_name(ref, name, sizeof(name));
		for (size_t k = 0; k < json_array_size(names); k++) {
			const char *n = json_string_value(json_array_get(names, k));
			if (store_name_matches(n, name)) {
				json_array_append_new(c->said, json_sprintf("Untagged: %s", n));
				json_array_remove(names, k);
				by_name = true;
				break;
			}
		}
		if (by_name && json_array_size(names) > 0)
			continue;
		json_t *arr = json_object_get(images, "images");
		for (size_t k = 0; k < json_array_size(arr); k++)
			if (json_array_get(arr, k) == img) {
				json_array_append_new(c->said, json_sprintf("Deleted: %s",
									    json_string_value(json_object_get(img, "id"))));
				json_array_remove(arr, k);
				break;
			}
	}
	return 0;
}

int cli_image_rm(const struct cli_args *a, cap_err *err)
{
	struct store s;
	/* exclusive: the image's blobs go at once, and nobody may be reading them */
	if (cli_store_open(&s, true, err) < 0)
		return -1;
	struct rm_ctx c = { a, json_array() };
	int r = store_images_update(&s, rm_images, &c, err);
	if (r == 0) {
		size_t i;
		json_t *l;
		json_array_foreach(c.said, i, l)
			printf("%s\n", json_string_value(l));
		struct store_gc_stats st;
		r = store_gc(&s, &st, err);
	}
	json_decref(c.said);
	store_close(&s);
	return r < 0 ? -1 : 0;
}

static int tag_image(json_t *images, void *ctx, cap_err *err)
{
	const struct cli_args *a = ctx;
	json_t *img = store_images_find(images, a->argv[0], err);
	if (!img)
		return -ENOENT;
	for (int i = 1; i < a->argc; i++) {
		char name[512];
		const char *nm = name;
		if (!store_name_valid(a->argv[i]) || store_normalize_name(a->argv[i], name, sizeof(name)) < 0)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "image tag: '%.200s' is not a valid NAME[:TAG]",
					     a->argv[i]);
		store_images_add(images, json_string_value(json_object_get(img, "id")), &nm, 1);
	}
	return 0;
}

int cli_image_tag(const struct cli_args *a, cap_err *err)
{
	struct store s;
	if (cli_store_open(&s, false, err) < 0)
		return -1;
	int r = store_images_update(&s, tag_image, (void *)a, err);
	store_close(&s);
	return r < 0 ? -1 : 0;
}

int cli_image_prune(const struct cli_args *a, cap_err *err)
{
	struct store s;
	if (cli_store_open(&s, true, err) < 0)
		return -1;
	struct store_gc_stats st;
	int r = store_gc(&s, &st, err);
	store_close(&s);
	if (r < 0)
		return -1;
	if (want_json(a)) {
		json_t *j = json_pack("{s:I,s:I,s:I,s:I}", "blobs", (json_int_t)st.blobs, "layers",
				      (json_int_t)st.layers, "tmp", (json_int_t)st.tmp, "bytes", (json_int_t)st.bytes);
		print_json(j);
		json_decref(j);
	} else {
		printf("removed %zu blobs, %zu unpacked layers, %zu temporary entries (%llu bytes of files)\n",
		       st.blobs, st.layers, st.tmp, st.bytes);
	}
	return 0;
}
