#include "build.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../image/fsutil.h"
#include "../image/layer.h"
#include "../image/progress.h"
#include "../image/registry.h"
#include "../lib/json.h"
#include "../oci/oci.h"
#include "../oci/spec_builder.h"
#include "convert.h"
#include "diff.h"
#include "recipe.h"
#include "run.h"

struct layer_ref {
	char blob[DIGEST_STR_LEN + 1], diff_id[DIGEST_STR_LEN + 1], media[96];
	json_int_t size;
};

struct stage {
	char *name;
	struct layer_ref *layers;
	size_t n;
	json_t *config;   /* the image config's "config" object */
	json_t *history;
	json_t *args;     /* the ARG values in force */
	char key[DIGEST_STR_LEN + 1];
};

struct build {
	struct store *s;
	const struct engine_build_args *a;
	const char *file;
	char context[PATH_MAX / 2];   /* halves: every path made from them fits a PATH_MAX buffer */
	char tmp[PATH_MAX / 2];
	json_t *global_args, *build_args;
	struct stage *stages;
	size_t nstages;
	char **ignore;
	size_t nignore;
	int steps;
	cap_err *err;
};

static int fail_at(struct build *b, const struct recipe_insn *in, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_at(struct build *b, const struct recipe_insn *in, const char *fmt, ...)
{
	char msg[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cap_errf(b->err, 0, "%s:%d: %s", b->file, in->line, msg);
}

/* ---- variables ---- */

static const char *env_get(const json_t *config, const char *name)
{
	const json_t *env = json_object_get(config, "Env"), *v;
	size_t i, n = strlen(name);
	json_array_foreach(env, i, v) {
		const char *kv = json_string_value(v);
		if (kv && !strncmp(kv, name, n) && kv[n] == '=')
			return kv + n + 1;
	}
	return NULL;
}

static const char *lookup_stage(const char *name, void *ctx)
{
	struct stage *st = ctx;
	const char *v = env_get(st->config, name);
	return v ? v : json_string_value(json_object_get(st->args, name));
}

static const char *lookup_global(const char *name, void *ctx)
{
	return json_string_value(json_object_get((json_t *)ctx, name));
}

static char *expand(struct build *b, const struct recipe_insn *in, struct stage *st, const char *s)
{
	char where[PATH_MAX + 16];
	snprintf(where, sizeof(where), "%s:%d", b->file, in->line);
	return st ? recipe_expand(s, lookup_stage, st, where, b->err) : recipe_expand(s, lookup_global, b->global_args, where, b->err);
}

static void env_set(json_t *config, const char *key, const char *value)
{
	json_t *env = json_object_get(config, "Env");
	if (!json_is_array(env))
		json_object_set_new(config, "Env", env = json_array());
	size_t i, n = strlen(key);
	json_t *v;
	char *kv = NULL;
	if (asprintf(&kv, "%s=%s", key, value) < 0)
		return;
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, key, n) && s[n] == '=') {
			json_array_set_new(env, i, json_string(kv));
			free(kv);
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
	free(kv);
}

/* ---- keys and history ---- */

static void next_key(struct stage *st, const char *what, size_t len)
{
	struct digester d;
	digester_init(&d);
	digester_update(&d, st->key, strlen(st->key));
	digester_update(&d, "\n", 1);
	digester_update(&d, what, len);
	digester_final(&d, st->key);
}

static void history(struct stage *st, const struct recipe_insn *in, bool empty)
{
	json_t *h = json_pack("{s:s}", "created_by", in->text);
	if (empty)
		json_object_set_new(h, "empty_layer", json_true());
	json_array_append_new(st->history, h);
}

/* ---- the context: ignore patterns, paths inside it ---- */

static void load_ignore(struct build *b)
{
	static const char *const names[] = { ".capsuleignore", ".dockerignore" };
	for (size_t k = 0; k < 2; k++) {
		char p[PATH_MAX + 32], line[1024];
		snprintf(p, sizeof(p), "%s/%s", b->context, names[k]);
		FILE *f = fopen(p, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *s = line + strspn(line, " \t");
			s[strcspn(s, "\r\n")] = 0;
			size_t n = strlen(s);
			while (n && (s[n - 1] == ' ' || s[n - 1] == '/'))
				s[--n] = 0;
			if (!n || *s == '#')
				continue;
			bool neg = *s == '!';
			const char *pat = s + neg;
			while (*pat == '/')
				pat++;
			char **v = realloc(b->ignore, (b->nignore + 1) * sizeof(*v));
			if (!v)
				break;
			b->ignore = v;
			if (asprintf(&b->ignore[b->nignore], "%s%s", neg ? "!" : "", pat) >= 0)
				b->nignore++;
		}
		fclose(f);
		return; /* the first that exists */
	}
}

/* Is rel (a context-relative path) ignored? The last pattern that matches it or a parent wins. */
static bool ignored(const struct build *b, const char *rel)
{
	bool out = false;
	for (size_t i = 0; i < b->nignore; i++) {
		const char *p = b->ignore[i];
		bool neg = *p == '!';
		p += neg;
		char prefix[PATH_MAX];
		bool hit = fnmatch(p, rel, FNM_PATHNAME) == 0;
		for (const char *s = strchr(rel, '/'); !hit && s; s = strchr(s + 1, '/')) {
			snprintf(prefix, sizeof(prefix), "%.*s", (int)(s - rel), rel);
			hit = fnmatch(p, prefix, FNM_PATHNAME) == 0;
		}
		if (hit)
			out = !neg;
	}
	return out;
}

/* A lexically clean relative path, or NULL when it climbs out ("../x"). */
static bool clean_rel(const char *in, char *out, size_t sz)
{
	size_t n = 0;
	out[0] = 0;
	for (const char *s = in; *s;) {
		while (*s == '/')
			s++;
		size_t l = strcspn(s, "/");
		if (!l)
			break;
		if (l == 1 && s[0] == '.') {
		} else if (l == 2 && s[0] == '.' && s[1] == '.') {
			if (!n)
				return false;
			while (n && out[n - 1] != '/')
				n--;
			if (n)
				n--;
			out[n] = 0;
		} else {
			if (n + l + 2 > sz)
				return false;
			if (n)
				out[n++] = '/';
			memcpy(out + n, s, l);
			n += l;
			out[n] = 0;
		}
		s += l;
	}
	return true;
}

/* ---- writing inside the root ---- */

/* The directory path (absolute in the root) opened, made with its parents when missing. A
 * symlink on the way is followed as the container would see it (an absolute target from the
 * image's root), and a missing target directory is made, inside the root. */
static int mkdirs_in_root(int rootfd, const char *path)
{
	char todo[PATH_MAX], cur[PATH_MAX] = "";
	int hops = 0;
	if (!clean_rel(path, todo, sizeof(todo)))
		return -EINVAL;
	for (;;) {
		char *rest = todo;
		while (*rest == '/')
			rest++;
		if (!*rest)
			break;
		size_t l = strcspn(rest, "/");
		char comp[NAME_MAX + 1], cand[PATH_MAX];
		if (l > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, rest, l);
		comp[l] = 0;
		if (snprintf(cand, sizeof(cand), "%s/%s", cur, comp) >= (int)sizeof(cand))
			return -ENAMETOOLONG;
		memmove(todo, rest + l, strlen(rest + l) + 1);
		int fd = open_in_root(rootfd, cand, O_PATH | O_NOFOLLOW, 0);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
			char target[PATH_MAX], next[PATH_MAX * 2], clean[PATH_MAX];
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
			if (n < 0 || ++hops > 40)
				return n < 0 ? -errno : -ELOOP;
			target[n] = 0;
			snprintf(next, sizeof(next), "%s/%s", target[0] == '/' ? "" : cur, target);
			size_t nl = strlen(next);
			snprintf(next + nl, sizeof(next) - nl, "%s", todo);
			if (!clean_rel(next, clean, sizeof(clean)))
				clean[0] = 0; /* a target that climbs above the root stops at it */
			snprintf(todo, sizeof(todo), "/%s", clean);
			cur[0] = 0;
			continue;
		}
		if (fd >= 0) {
			close(fd);
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		} else if (fd == -ENOENT) {
			int pfd = open_in_root(rootfd, cur[0] ? cur : "/", O_RDONLY | O_DIRECTORY, 0);
			if (pfd < 0)
				return pfd;
			int r = mkdirat(pfd, comp, 0755) < 0 && errno != EEXIST ? -errno : 0;
			close(pfd);
			if (r < 0)
				return r;
		} else {
			return fd;
		}
		memcpy(cur, cand, strlen(cand) + 1);
	}
	return open_in_root(rootfd, cur[0] ? cur : "/", O_RDONLY | O_DIRECTORY, 0);
}

struct copy {
	struct build *b;
	uid_t uid;
	gid_t gid;
	bool chown;
	bool from_context;
	size_t root_len;   /* of the source root, to make context-relative names */
};

static int copy_entry(struct copy *c, const char *src, int dstfd, const char *name)
{
	struct stat st;
	if (lstat(src, &st) < 0)
		return -errno;
	if (c->from_context && strlen(src) > c->root_len && ignored(c->b, src + c->root_len + 1))
		return 0;
	uid_t u = c->chown ? c->uid : 0;
	gid_t g = c->chown ? c->gid : 0;
	int r = 0;
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(dstfd, name, st.st_mode & 07777) < 0 && errno != EEXIST)
			return -errno;
		int sub = openat(dstfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return -errno;
		fchown(sub, u, g) < 0 ? (void)0 : (void)0;
		fchmod(sub, st.st_mode & 07777);
		glob_t gl;
		char pat[PATH_MAX + 8];
		snprintf(pat, sizeof(pat), "%s/*", src);
		char dotpat[PATH_MAX + 8];
		snprintf(dotpat, sizeof(dotpat), "%s/.[!.]*", src);
		int g1 = glob(pat, GLOB_NOSORT, NULL, &gl);
		int g2 = glob(dotpat, GLOB_NOSORT | (g1 == 0 ? GLOB_APPEND : 0), NULL, &gl);
		if (g1 == 0 || g2 == 0)
			for (size_t i = 0; i < gl.gl_pathc && r == 0; i++) {
				const char *base = strrchr(gl.gl_pathv[i], '/') + 1;
				r = copy_entry(c, gl.gl_pathv[i], sub, base);
			}
		if (g1 == 0 || g2 == 0)
			globfree(&gl);
		close(sub);
		return r;
	}
	/* Whatever the image had under that name goes (a symlink is never followed). */
	struct stat old;
	if (fstatat(dstfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(old.st_mode))
		unlinkat(dstfd, name, 0);
	if (S_ISLNK(st.st_mode)) {
		char t[PATH_MAX];
		ssize_t n = readlink(src, t, sizeof(t) - 1);
		if (n < 0)
			return -errno;
		t[n] = 0;
		if (symlinkat(t, dstfd, name) < 0)
			return -errno;
		fchownat(dstfd, name, u, g, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return 0; /* devices, fifos and sockets of a context are not copied (docker does the same) */
	int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int out = in < 0 ? -1 : openat(dstfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (in < 0 || out < 0) {
		r = -errno;
		if (in >= 0)
			close(in);
		return r;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
	if (n < 0)
		r = -errno;
	if (fchown(out, u, g) < 0 && r == 0)
		r = -errno;
	fchmod(out, st.st_mode & 07777);
	close(in);
	close(out);
	return r;
}

/* Hash what a COPY/ADD source holds (names, modes, link targets, bytes), for the cache key. */
static void hash_tree(struct build *b, struct digester *d, const char *src, size_t root_len, bool ctx)
{
	struct stat st;
	if (lstat(src, &st) < 0 || (ctx && strlen(src) > root_len && ignored(b, src + root_len + 1)))
		return;
	char hdr[PATH_MAX + 64];
	int n = snprintf(hdr, sizeof(hdr), "%s\n%o %lld\n", src + root_len, st.st_mode, (long long)st.st_size);
	digester_update(d, hdr, (size_t)n);
	if (S_ISLNK(st.st_mode)) {
		char t[PATH_MAX];
		ssize_t l = readlink(src, t, sizeof(t));
		if (l > 0)
			digester_update(d, t, (size_t)l);
	} else if (S_ISREG(st.st_mode)) {
		int fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		char buf[65536];
		ssize_t l;
		while (fd >= 0 && (l = read(fd, buf, sizeof(buf))) > 0)
			digester_update(d, buf, (size_t)l);
		if (fd >= 0)
			close(fd);
	} else if (S_ISDIR(st.st_mode)) {
		glob_t gl;
		char pat[PATH_MAX + 8];
		snprintf(pat, sizeof(pat), "%s/{*,.[!.]*}", src);
		if (glob(pat, GLOB_BRACE, NULL, &gl) == 0) {
			for (size_t i = 0; i < gl.gl_pathc; i++)
				hash_tree(b, d, gl.gl_pathv[i], root_len, ctx);
			globfree(&gl);
		}
	}
}

/* ---- stages and their roots ---- */

static void stage_free(struct stage *st)
{
	free(st->name);
	free(st->layers);
	json_decref(st->config);
	json_decref(st->history);
	json_decref(st->args);
	memset(st, 0, sizeof(*st));
}

static int stage_from(struct build *b, struct stage *st, const struct recipe_insn *in)
{
	char *ref = expand(b, in, NULL, in->args[0]);
	int r = 0;
	if (!ref)
		return -1;
	st->args = json_object();
	st->history = json_array();
	st->config = json_object();
	if (in->as && !(st->name = strdup(in->as))) {
		free(ref);
		return cap_errf(b->err, ENOMEM, "stage");
	}
	if (!strcmp(ref, "scratch")) {
		digest_buffer("scratch", 7, st->key);
		free(ref);
		return 0;
	}
	/* A stage named earlier is a base too (FROM builder). */
	for (size_t i = 0; i + 1 < b->nstages; i++)
		if (b->stages[i].name && !strcmp(b->stages[i].name, ref)) {
			struct stage *o = &b->stages[i];
			st->layers = calloc(o->n + 1, sizeof(*st->layers));
			if (o->n)
				memcpy(st->layers, o->layers, o->n * sizeof(*st->layers));
			st->n = o->n;
			json_decref(st->config), json_decref(st->history);
			st->config = json_deep_copy(o->config);
			st->history = json_deep_copy(o->history);
			memcpy(st->key, o->key, sizeof(st->key));
			free(ref);
			return 0;
		}
	json_t *images = store_images_load(b->s, b->err), *e;
	struct store_image img;
	if (!images) {
		free(ref);
		return -EIO;
	}
	cap_err fe = { 0 };
	char id[DIGEST_STR_LEN + 1];
	if ((e = store_images_find(images, ref, &fe))) {
		snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(e, "id")) ?: "");
	} else if (b->a->pull) {
		/* as podman does: an image the store lacks is pulled, with the build's registry options */
		cap_err pe = { 0 };
		if (!b->a->quiet)
			fprintf(stderr, "FROM %s: not in the store: pulling it\n", ref);
		r = registry_pull(b->s, ref, b->a->pull, id, &pe);
		progress_end(b->s->progress);
		if (r < 0) {
			json_decref(images);
			r = fail_at(b, in, "FROM %s: not in the store, and the pull failed: %s", ref, pe.msg);
			free(ref);
			return r;
		}
	} else {
		json_decref(images);
		r = fail_at(b, in, "FROM %s: no such image in the store (capsule image import or pull it first)", ref);
		free(ref);
		return r;
	}
	r = store_image_load(b->s, id, &img, b->err);
	json_decref(images);
	free(ref);
	if (r < 0)
		return r;
	st->layers = calloc(img.n_layers + 1, sizeof(*st->layers));
	json_t *mlayers = json_object_get(img.manifest, "layers");
	for (size_t i = 0; i < img.n_layers; i++) {
		json_t *d = json_array_get(mlayers, i);
		struct layer_ref *l = &st->layers[i];
		snprintf(l->blob, sizeof(l->blob), "%s", img.layers[i]);
		snprintf(l->diff_id, sizeof(l->diff_id), "%s", img.diff_ids[i]);
		snprintf(l->media, sizeof(l->media), "%s", json_string_value(json_object_get(d, "mediaType")) ?: MT_OCI_LAYER);
		l->size = json_integer_value(json_object_get(d, "size"));
	}
	st->n = img.n_layers;
	json_t *c = json_object_get(img.config, "config");
	if (json_is_object(c)) {
		json_decref(st->config);
		st->config = json_deep_copy(c);
	}
	json_t *h = json_object_get(img.config, "history");
	if (json_is_array(h)) {
		json_decref(st->history);
		st->history = json_deep_copy(h);
	}
	char what[DIGEST_STR_LEN + 8];
	int n = snprintf(what, sizeof(what), "FROM %s", img.id);
	digest_buffer(what, (size_t)n, st->key);
	store_image_free(&img);
	return 0;
}

/* The stage's layer directories, bottom first above an empty one. */
static int stage_lowers(struct build *b, const struct stage *st, const char *dir, char (**out)[PATH_MAX], size_t *n)
{
	char (*v)[PATH_MAX] = calloc(st->n + 1, sizeof(*v));
	if (!v)
		return cap_errf(b->err, ENOMEM, "layers");
	snprintf(v[0], sizeof(v[0]), "%s/empty", dir);
	mkdir(v[0], 0755);
	for (size_t i = 0; i < st->n; i++) {
		int r;
		if ((r = store_layer_dir(b->s, st->layers[i].diff_id, v[i + 1], sizeof(v[i + 1]))) < 0 ||
		    (access(v[i + 1], F_OK) < 0 &&
		     (r = store_unpack_layer(b->s, st->layers[i].blob, st->layers[i].diff_id, b->err)) < 0)) {
			free(v);
			return r < 0 ? r : -1;
		}
	}
	*out = v;
	*n = st->n + 1;
	return 0;
}

/* ---- the steps that make layers ---- */

struct step {
	char dir[PATH_MAX], upper[PATH_MAX + 8], work[PATH_MAX + 8], merged[PATH_MAX + 8];
	bool mounted;
};

static int step_mount(struct build *b, struct stage *st, struct step *sp, int n)
{
	char (*lowers)[PATH_MAX];
	size_t nl;
	snprintf(sp->dir, sizeof(sp->dir), "%s/step%d", b->tmp, n);
	snprintf(sp->upper, sizeof(sp->upper), "%s/upper", sp->dir);
	snprintf(sp->work, sizeof(sp->work), "%s/work", sp->dir);
	snprintf(sp->merged, sizeof(sp->merged), "%s/merged", sp->dir);
	if (mkdir(sp->dir, 0700) < 0 || mkdir(sp->upper, 0755) < 0 || mkdir(sp->work, 0700) < 0 || mkdir(sp->merged, 0755) < 0)
		return cap_errf(b->err, errno, "%s", sp->dir);
	int r = stage_lowers(b, st, sp->dir, &lowers, &nl);
	if (r < 0)
		return r;
	r = engine_overlay_mount(sp->merged, lowers, nl, sp->upper, sp->work, b->err);
	free(lowers);
	sp->mounted = r == 0;
	return r;
}

static void step_done(struct step *sp)
{
	if (sp->mounted)
		umount2(sp->merged, MNT_DETACH);
	sp->mounted = false;
	if (sp->dir[0])
		remove_tree(sp->dir);
}

static int cache_path(struct build *b, const char *key, char *buf, size_t sz)
{
	char dir[PATH_MAX];
	store_path(b->s, dir, sizeof(dir), "build-cache");
	mkdir(dir, 0700);
	return snprintf(buf, sz, "%s/%s.json", dir, digest_hex(key)) < (int)sz ? 0 : -ENAMETOOLONG;
}

static int push_layer(struct stage *st, const struct layer_ref *l)
{
	struct layer_ref *v = realloc(st->layers, (st->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	st->layers = v;
	st->layers[st->n++] = *l;
	return 0;
}

static bool cache_hit(struct build *b, struct stage *st, const char *key)
{
	char p[PATH_MAX];
	json_error_t je;
	if (b->a->no_cache || cache_path(b, key, p, sizeof(p)) < 0)
		return false;
	json_t *j = cap_json_load_path(p, 0, &je);
	const char *blob = json_string_value(json_object_get(j, "blob"));
	struct layer_ref l = { 0 };
	bool ok = blob && digest_valid(blob) && store_has_blob(b->s, blob);
	if (ok) {
		char dir[PATH_MAX];
		cap_err ignored = { 0 };
		snprintf(l.blob, sizeof(l.blob), "%s", blob);
		snprintf(l.diff_id, sizeof(l.diff_id), "%s", blob);
		snprintf(l.media, sizeof(l.media), "%s", MT_OCI_LAYER);
		l.size = json_integer_value(json_object_get(j, "size"));
		ok = store_layer_dir(b->s, blob, dir, sizeof(dir)) == 0 &&
		     (access(dir, F_OK) == 0 || store_unpack_layer(b->s, blob, blob, &ignored) == 0) && push_layer(st, &l) == 0;
	}
	json_decref(j);
	return ok;
}

/* The upper directory becomes a blob and an unpacked layer of the stage; the cache learns it. */
static int commit_layer(struct build *b, struct stage *st, struct step *sp, const char *key)
{
	char tarp[PATH_MAX + 16], p[PATH_MAX];
	snprintf(tarp, sizeof(tarp), "%s/layer.tar", sp->dir);
	int fd = open(tarp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return cap_errf(b->err, errno, "%s", tarp);
	umount2(sp->merged, MNT_DETACH);
	sp->mounted = false;
	int r = engine_diff_to_tar(sp->upper, fd, NULL, b->err);
	struct layer_ref l = { 0 };
	size_t size = 0;
	if (r == 0 && lseek(fd, 0, SEEK_SET) == 0)
		r = store_put_fd(b->s, fd, "build layer", NULL, l.blob, &size, b->err);
	close(fd);
	if (r < 0)
		return r;
	snprintf(l.diff_id, sizeof(l.diff_id), "%s", l.blob);
	snprintf(l.media, sizeof(l.media), "%s", MT_OCI_LAYER);
	l.size = (json_int_t)size;
	if ((r = store_unpack_layer(b->s, l.blob, l.diff_id, b->err)) < 0 || push_layer(st, &l) < 0)
		return r < 0 ? r : cap_errf(b->err, ENOMEM, "layers");
	if (cache_path(b, key, p, sizeof(p)) == 0) {
		json_t *j = json_pack("{s:s, s:I}", "blob", l.blob, "size", (json_int_t)size);
		json_dump_file(j, p, 0);
		json_decref(j);
	}
	return 0;
}

static int run_step(struct build *b, struct stage *st, const struct recipe_insn *in, struct step *sp)
{
	char bundle[PATH_MAX + 16], cfg[PATH_MAX + 32], root[PATH_MAX], id[40], cg[96];
	unsigned char rnd[8];
	snprintf(bundle, sizeof(bundle), "%s/bundle", sp->dir);
	snprintf(cfg, sizeof(cfg), "%s/config.json", bundle);
	if (mkdir(bundle, 0700) < 0)
		return cap_errf(b->err, errno, "%s", bundle);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return cap_errf(b->err, errno, "build container id");
	snprintf(id, sizeof(id), "build-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
		 rnd[6], rnd[7]);
	const char *sh[] = { "/bin/sh", "-c", in->args[0] };
	/* The stage's ARGs are in RUN's environment (as docker does), under its ENV. */
	const char *envv[256];
	char *owned[256];
	size_t ne = 0;
	const char *k;
	json_t *v;
	json_object_foreach(st->args, k, v)
		if (json_is_string(v) && !env_get(st->config, k) && ne < 256 &&
		    asprintf(&owned[ne], "%s=%s", k, json_string_value(v)) >= 0) {
			envv[ne] = owned[ne];
			ne++;
		}
	struct engine_run_opts o = { .cmd = in->exec_form ? (const char *const *)in->args : sh,
				     .n_cmd = in->exec_form ? in->nargs : 3, .entrypoint = "", .env = envv, .n_env = ne };
	json_t *image = json_pack("{s:O}", "config", st->config);
	json_t *spec = oci_sb_default();
	snprintf(cg, sizeof(cg), "/capsule-build/%s", id);
	int r = oci_sb_set_root(spec, sp->merged, false, b->err);
	if (r == 0)
		r = engine_spec_from_image(spec, image, sp->merged, &o, b->err);
	if (r == 0)
		r = oci_sb_set_caps(spec, OCI_SB_CAP_DEFAULT_SETS, engine_caps, engine_n_caps, b->err);
	if (r == 0) {
		json_object_set_new(json_object_get(spec, "linux"), "cgroupsPath", json_string(cg));
		if (json_dump_file(spec, cfg, JSON_INDENT(1)) < 0)
			r = cap_errf(b->err, errno, "%s", cfg);
	}
	json_decref(spec);
	json_decref(image);
	for (size_t i = 0; i < ne; i++)
		free(owned[i]);
	if (r < 0) {
		cap_err_prefix(b->err, "%s:%d", b->file, in->line);
		return r;
	}
	store_path(b->s, root, sizeof(root), "oci");
	struct oci_runtime rt = { .root = root };
	struct oci_create_args ca = { .id = id, .bundle = bundle };
	/* RUN reads nothing: its stdin is /dev/null, its output the build's. */
	int saved = dup(0), null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0)
		dup2(null, 0);
	r = oci_run(&rt, &ca, b->err);
	if (saved >= 0) {
		dup2(saved, 0);
		close(saved);
	}
	if (null >= 0)
		close(null);
	if (r < 0) {
		cap_err ignored = { 0 };
		oci_delete(&rt, id, true, &ignored);
		cap_err_prefix(b->err, "%s:%d: RUN", b->file, in->line);
		return r;
	}
	if (r > 0)
		return fail_at(b, in, "RUN exited with status %d", r);
	return 0;
}

/* Where a COPY --from reads: a stage's root mounted read-only, or an image of the store's. */
static int from_root(struct build *b, const struct recipe_insn *in, struct stage *src_stage, char *root, size_t sz,
		     int n)
{
	char (*lowers)[PATH_MAX];
	size_t nl;
	char dir[PATH_MAX / 2 + 32];
	snprintf(dir, sizeof(dir), "%s/from%d", b->tmp, n);
	if (mkdir(dir, 0700) < 0)
		return cap_errf(b->err, errno, "%s", dir);
	snprintf(root, sz, "%s/root", dir);
	mkdir(root, 0755);
	int r = stage_lowers(b, src_stage, dir, &lowers, &nl);
	if (r < 0)
		return r;
	if (nl == 1) {
		free(lowers);
		return 0; /* scratch: an empty root */
	}
	r = engine_overlay_mount(root, lowers, nl, NULL, NULL, b->err);
	free(lowers);
	if (r < 0)
		cap_err_prefix(b->err, "%s:%d: COPY --from", b->file, in->line);
	return r;
}

static int copy_step(struct build *b, struct stage *st, const struct recipe_insn *in, struct step *sp,
		     const char *src_root, bool ctx, char **srcs, size_t nsrc, const char *dest)
{
	int rootfd = open(sp->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct copy c = { .b = b, .from_context = ctx, .root_len = strlen(src_root) };
	int r = 0;
	if (rootfd < 0)
		return cap_errf(b->err, errno, "%s", sp->merged);
	if (in->chown) {
		char *who = expand(b, in, st, in->chown);
		uint32_t uid, gid, groups[1];
		size_t ng;
		r = who ? engine_resolve_user(sp->merged, who, &uid, &gid, groups, 0, &ng, b->err) : -1;
		free(who);
		if (r < 0) {
			close(rootfd);
			cap_err_prefix(b->err, "%s:%d: --chown", b->file, in->line);
			return r;
		}
		c.chown = true, c.uid = uid, c.gid = gid;
	}
	bool to_dir = nsrc > 1 || dest[strlen(dest) - 1] == '/';
	for (size_t i = 0; i < nsrc && r == 0; i++) {
		struct stat sst;
		if (lstat(srcs[i], &sst) < 0) {
			r = fail_at(b, in, "%s: %s", srcs[i] + strlen(src_root) + 1, strerror(errno));
			break;
		}
		bool add_archive = false;
		if (in->op == RECIPE_ADD && S_ISREG(sst.st_mode)) {
			struct archive *a = archive_read_new();
			struct archive_entry *e;
			archive_read_support_filter_all(a);
			archive_read_support_format_tar(a);
			add_archive = archive_read_open_filename(a, srcs[i], 10240) == ARCHIVE_OK &&
				      archive_read_next_header(a, &e) == ARCHIVE_OK;
			archive_read_free(a);
		}
		const char *base = strrchr(srcs[i], '/') + 1;
		char dpath[PATH_MAX], parent[PATH_MAX];
		const char *name;
		if (S_ISDIR(sst.st_mode) || add_archive || to_dir) {
			snprintf(dpath, sizeof(dpath), "%s", dest);
			int dfd = mkdirs_in_root(rootfd, dpath);
			if (dfd < 0) {
				r = fail_at(b, in, "%s: %s", dest, strerror(-dfd));
				break;
			}
			if (add_archive) {
				r = layer_extract_file(srcs[i], base, dfd, LAYER_APPLY, NULL, b->err);
			} else if (S_ISDIR(sst.st_mode)) {
				/* a directory's contents, not the directory itself */
				glob_t gl;
				char pat[PATH_MAX + 16];
				snprintf(pat, sizeof(pat), "%s/{*,.[!.]*}", srcs[i]);
				if (glob(pat, GLOB_BRACE, NULL, &gl) == 0) {
					for (size_t k = 0; k < gl.gl_pathc && r == 0; k++)
						r = copy_entry(&c, gl.gl_pathv[k], dfd, strrchr(gl.gl_pathv[k], '/') + 1);
					globfree(&gl);
				}
			} else {
				r = copy_entry(&c, srcs[i], dfd, base);
			}
			close(dfd);
		} else {
			/* one file to a path: its parent made, the file named as dest says (into it if a directory) */
			snprintf(parent, sizeof(parent), "%s", dest);
			char *slash = strrchr(parent, '/');
			name = slash ? slash + 1 : parent;
			if (slash)
				*slash = 0;
			int dfd = mkdirs_in_root(rootfd, slash ? (parent[0] ? parent : "/") : "/");
			if (dfd < 0) {
				r = fail_at(b, in, "%s: %s", dest, strerror(-dfd));
				break;
			}
			struct stat dst;
			if (fstatat(dfd, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(dst.st_mode)) {
				int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				r = sub < 0 ? -errno : copy_entry(&c, srcs[i], sub, base);
				if (sub >= 0)
					close(sub);
			} else {
				r = copy_entry(&c, srcs[i], dfd, name);
			}
			close(dfd);
		}
		if (r < 0 && !b->err->set)
			r = fail_at(b, in, "%s into %s: %s", base, dest, strerror(-r));
	}
	close(rootfd);
	return r;
}

/* COPY/ADD: the sources expanded, globbed and checked, the cache key over their contents. */
static int copy_like(struct build *b, struct stage *st, const struct recipe_insn *in, int n)
{
	char src_root[PATH_MAX] = "", *srcs[256];
	size_t nsrc = 0;
	bool ctx = true;
	int r = 0;
	struct step sp = { 0 };
	if (in->from) {
		char *f = expand(b, in, st, in->from);
		struct stage *from = NULL;
		char *end;
		long idx = f ? strtol(f, &end, 10) : -1;
		for (size_t i = 0; f && i + 1 < b->nstages; i++)
			if ((b->stages[i].name && !strcmp(b->stages[i].name, f)) || (!*end && idx == (long)i))
				from = &b->stages[i];
		if (!from) {
			r = fail_at(b, in, "COPY --from=%s: no earlier stage of that name or number", f ? f : "?");
			free(f);
			return r;
		}
		free(f);
		if ((r = from_root(b, in, from, src_root, sizeof(src_root), n)) < 0)
			return r;
		ctx = false;
	} else {
		snprintf(src_root, sizeof(src_root), "%s", b->context);
	}
	char *dest = expand(b, in, st, in->args[in->nargs - 1]);
	struct digester d;
	digester_init(&d);
	digester_update(&d, in->text, strlen(in->text));
	if (in->from)
		hash_tree(b, &d, src_root, strlen(src_root), false); /* the other stage's root, whole */
	for (size_t i = 0; dest && i + 1 < in->nargs && r == 0; i++) {
		char *s = expand(b, in, st, in->args[i]), clean[PATH_MAX];
		if (!s) {
			r = -1;
			break;
		}
		if (strstr(s, "://")) {
			r = fail_at(b, in, "%s: URLs are not fetched (RUN wget or curl instead)", s);
			free(s);
			break;
		}
		if (!clean_rel(s, clean, sizeof(clean))) {
			r = fail_at(b, in, "%s: outside the build context", s);
			free(s);
			break;
		}
		free(s);
		char full[PATH_MAX * 2];
		snprintf(full, sizeof(full), "%s%s%s", src_root, clean[0] ? "/" : "", clean);
		glob_t gl;
		if (glob(full, GLOB_NOCHECK, NULL, &gl) == 0) {
			for (size_t k = 0; k < gl.gl_pathc && r == 0; k++) {
				struct stat sst;
				if (lstat(gl.gl_pathv[k], &sst) < 0) {
					r = fail_at(b, in, "%s: no such file in the %s", clean, ctx ? "build context" : "stage");
					break;
				}
				if (nsrc == 256) {
					r = fail_at(b, in, "more than 256 sources");
					break;
				}
				srcs[nsrc++] = strdup(gl.gl_pathv[k]);
				if (ctx)
					hash_tree(b, &d, gl.gl_pathv[k], strlen(src_root), true);
			}
			globfree(&gl);
		}
	}
	char key[DIGEST_STR_LEN + 1];
	if (r == 0 && dest) {
		/* a relative destination is under WORKDIR */
		const char *wd = json_string_value(json_object_get(st->config, "WorkingDir"));
		char *abs = NULL;
		if (dest[0] != '/' && asprintf(&abs, "%s/%s", wd && *wd ? wd : "", dest) >= 0) {
			free(dest);
			dest = abs;
		}
		digester_update(&d, dest, strlen(dest));
		char content[DIGEST_STR_LEN + 1];
		digester_final(&d, content);
		memcpy(key, st->key, sizeof(key));
		struct stage tmp = { 0 };
		memcpy(tmp.key, st->key, sizeof(tmp.key));
		next_key(&tmp, content, strlen(content));
		memcpy(key, tmp.key, sizeof(key));
		if (cache_hit(b, st, key)) {
			if (!b->a->quiet)
				fprintf(stderr, " --> cached\n");
		} else if ((r = step_mount(b, st, &sp, n)) == 0 &&
			   (r = copy_step(b, st, in, &sp, src_root, ctx, srcs, nsrc, dest)) == 0) {
			r = commit_layer(b, st, &sp, key);
		}
		if (r == 0) {
			memcpy(st->key, key, sizeof(st->key));
			history(st, in, false);
		}
	} else if (!dest) {
		r = -1;
	}
	step_done(&sp);
	if (in->from) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/from%d", b->tmp, n);
		char rootm[PATH_MAX + 8];
		snprintf(rootm, sizeof(rootm), "%s/root", dir);
		umount2(rootm, MNT_DETACH);
		remove_tree(dir);
	}
	for (size_t i = 0; i < nsrc; i++)
		free(srcs[i]);
	free(dest);
	return r;
}

static int run_like(struct build *b, struct stage *st, const struct recipe_insn *in, int n)
{
	/* The key: the command, and the environment, user and directory it runs with. */
	char *conf = json_dumps(st->config, JSON_SORT_KEYS | JSON_COMPACT), *args = json_dumps(st->args, JSON_SORT_KEYS | JSON_COMPACT);
	char *what = NULL;
	int r = 0;
	if (asprintf(&what, "%s\n%s\n%s", in->text, conf ? conf : "", args ? args : "") < 0)
		what = NULL;
	free(conf);
	free(args);
	if (!what)
		return cap_errf(b->err, ENOMEM, "build");
	struct stage tmp = { 0 };
	memcpy(tmp.key, st->key, sizeof(tmp.key));
	next_key(&tmp, what, strlen(what));
	free(what);
	struct step sp = { 0 };
	if (cache_hit(b, st, tmp.key)) {
		if (!b->a->quiet)
			fprintf(stderr, " --> cached\n");
	} else if ((r = step_mount(b, st, &sp, n)) == 0 && (r = run_step(b, st, in, &sp)) == 0) {
		r = commit_layer(b, st, &sp, tmp.key);
	}
	step_done(&sp);
	if (r == 0) {
		memcpy(st->key, tmp.key, sizeof(st->key));
		history(st, in, false);
	}
	return r;
}

/* ---- the config instructions ---- */

static json_t *object_member(json_t *config, const char *key)
{
	json_t *o = json_object_get(config, key);
	if (!json_is_object(o))
		json_object_set_new(config, key, o = json_object());
	return o;
}

static int meta(struct build *b, struct stage *st, const struct recipe_insn *in)
{
	int r = 0;
	switch (in->op) {
	case RECIPE_ENV:
		for (size_t i = 0; i + 1 < in->nargs && r == 0; i += 2) {
			char *v = expand(b, in, st, in->args[i + 1]);
			if (!v)
				return -1;
			env_set(st->config, in->args[i], v);
			free(v);
		}
		break;
	case RECIPE_ARG:
		for (size_t i = 0; i + 1 < in->nargs; i += 2) {
			const char *name = in->args[i];
			json_t *given = json_object_get(b->build_args, name);
			char *v = NULL;
			if (given)
				v = strdup(json_string_value(given));
			else if (in->args[i + 1])
				v = expand(b, in, st, in->args[i + 1]);
			else if (json_is_string(json_object_get(b->global_args, name)))
				v = strdup(json_string_value(json_object_get(b->global_args, name)));
			if (v)
				json_object_set_new(st->args, name, json_string(v));
			free(v);
		}
		break;
	case RECIPE_WORKDIR: {
		char *v = expand(b, in, st, in->args[0]), clean[PATH_MAX], *joined = NULL;
		const char *wd = json_string_value(json_object_get(st->config, "WorkingDir"));
		if (!v)
			return -1;
		if (v[0] != '/' && asprintf(&joined, "%s/%s", wd ? wd : "", v) < 0)
			joined = NULL;
		if (!clean_rel(joined ? joined : v, clean, sizeof(clean)))
			clean[0] = 0;
		char abs[PATH_MAX + 2];
		snprintf(abs, sizeof(abs), "/%s", clean);
		json_object_set_new(st->config, "WorkingDir", json_string(abs));
		free(joined);
		free(v);
		break;
	}
	case RECIPE_USER: {
		char *v = expand(b, in, st, in->args[0]);
		if (!v)
			return -1;
		json_object_set_new(st->config, "User", json_string(v));
		free(v);
		break;
	}
	case RECIPE_ENTRYPOINT:
	case RECIPE_CMD: {
		json_t *a = json_array();
		if (in->exec_form)
			for (size_t i = 0; i < in->nargs; i++)
				json_array_append_new(a, json_string(in->args[i]));
		else
			json_array_append_new(a, json_string("/bin/sh")), json_array_append_new(a, json_string("-c")),
				json_array_append_new(a, json_string(in->args[0]));
		json_object_set_new(st->config, in->op == RECIPE_CMD ? "Cmd" : "Entrypoint", a);
		break;
	}
	case RECIPE_LABEL:
		for (size_t i = 0; i + 1 < in->nargs; i += 2) {
			char *k = expand(b, in, st, in->args[i]), *v = k ? expand(b, in, st, in->args[i + 1]) : NULL;
			if (v)
				json_object_set_new(object_member(st->config, "Labels"), k, json_string(v));
			free(k);
			if (!v)
				return -1;
			free(v);
		}
		break;
	case RECIPE_EXPOSE:
		for (size_t i = 0; i < in->nargs; i++) {
			char *v = expand(b, in, st, in->args[i]), port[64];
			if (!v)
				return -1;
			char *end;
			long p = strtol(v, &end, 10);
			if (p < 1 || p > 65535 || (*end && strcmp(end, "/tcp") && strcmp(end, "/udp"))) {
				r = fail_at(b, in, "EXPOSE %s: want PORT[/tcp|/udp]", v);
				free(v);
				return r;
			}
			snprintf(port, sizeof(port), "%ld%s", p, *end ? end : "/tcp");
			json_object_set_new(object_member(st->config, "ExposedPorts"), port, json_object());
			free(v);
		}
		break;
	case RECIPE_VOLUME:
		for (size_t i = 0; i < in->nargs; i++) {
			char *v = expand(b, in, st, in->args[i]);
			if (!v)
				return -1;
			json_object_set_new(object_member(st->config, "Volumes"), v, json_object());
			free(v);
		}
		break;
	default:
		break;
	}
	char *conf = json_dumps(st->config, JSON_SORT_KEYS | JSON_COMPACT);
	next_key(st, conf ? conf : in->text, strlen(conf ? conf : in->text));
	free(conf);
	history(st, in, true);
	return r;
}

/* ---- the image ---- */

static int add_name(json_t *images, void *ctx, cap_err *err)
{
	const char **v = ctx;
	(void)err;
	return store_images_add(images, v[0], v[1] ? &v[1] : NULL, v[1] ? 1 : 0) < 0 ? -ENOMEM : 0;
}

static int write_image(struct build *b, struct stage *st, char id[DIGEST_STR_LEN + 1])
{
	json_t *diff_ids = json_array(), *layers = json_array();
	for (size_t i = 0; i < st->n; i++) {
		json_array_append_new(diff_ids, json_string(st->layers[i].diff_id));
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType", st->layers[i].media, "digest",
							st->layers[i].blob, "size", st->layers[i].size));
	}
	json_t *config = json_pack("{s:s, s:s, s:O, s:{s:s, s:o}, s:O}", "architecture", "amd64", "os", "linux", "config",
				   st->config, "rootfs", "type", "layers", "diff_ids", diff_ids, "history", st->history);
	char *ctext = config ? json_dumps(config, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(config);
	char cdigest[DIGEST_STR_LEN + 1];
	int r = ctext ? store_put_buf(b->s, ctext, strlen(ctext), NULL, cdigest, b->err) : cap_errf(b->err, ENOMEM, "config");
	size_t clen = ctext ? strlen(ctext) : 0;
	free(ctext);
	if (r < 0) {
		json_decref(layers);
		return r;
	}
	json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_MANIFEST,
			      "config", "mediaType", MT_OCI_CONFIG, "digest", cdigest, "size", (json_int_t)clen, "layers",
			      layers);
	char *mtext = m ? json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(m);
	r = mtext ? store_put_buf(b->s, mtext, strlen(mtext), NULL, id, b->err) : cap_errf(b->err, ENOMEM, "manifest");
	free(mtext);
	if (r < 0)
		return r;
	char name[512];
	const char *v[2] = { id, NULL };
	if (b->a->tag) {
		if (!store_name_valid(b->a->tag) || store_normalize_name(b->a->tag, name, sizeof(name)) < 0)
			return cap_errf_code(b->err, CAP_EXIT_USAGE, 0, "build -t %s: not a valid NAME[:TAG]", b->a->tag);
		v[1] = name;
	}
	return store_images_update(b->s, add_name, v, b->err);
}

static int read_recipe(struct build *b, struct recipe *r, char *path, size_t sz)
{
	if (b->a->file)
		snprintf(path, sz, "%s", b->a->file);
	else {
		snprintf(path, sz, "%s/Capsulefile", b->context);
		if (access(path, F_OK) < 0)
			snprintf(path, sz, "%s/Dockerfile", b->context);
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return cap_errf(b->err, e, "%s", path);
	}
	if (st.st_size > (4 << 20)) {
		close(fd);
		return cap_errf_code(b->err, CAP_EXIT_USAGE, 0, "%s: larger than 4 MiB", path);
	}
	char *text = malloc((size_t)st.st_size + 1);
	ssize_t n = text ? read(fd, text, (size_t)st.st_size) : -1;
	close(fd);
	if (n < 0) {
		free(text);
		return cap_errf(b->err, errno, "%s", path);
	}
	const char *base = strrchr(path, '/');
	b->file = base ? base + 1 : path;
	int rc = recipe_parse(text, (size_t)n, b->file, r, b->err);
	free(text);
	return rc;
}

int engine_build(struct store *s, const struct engine_build_args *a, char id[DIGEST_STR_LEN + 1], cap_err *err)
{
	struct build b = { .s = s, .a = a, .err = err, .global_args = json_object(), .build_args = json_object() };
	struct recipe rc = { 0 };
	char path[PATH_MAX];
	int r;
	char ctx[PATH_MAX];
	if (!realpath(a->context, ctx))
		return cap_errf(err, errno, "build context %s", a->context);
	if (strlen(ctx) >= sizeof(b.context))
		return cap_errf(err, ENAMETOOLONG, "build context %s", a->context);
	memcpy(b.context, ctx, strlen(ctx) + 1);
	struct stat cst;
	if (stat(b.context, &cst) < 0 || !S_ISDIR(cst.st_mode))
		return cap_errf(err, ENOTDIR, "build context %s", a->context);
	for (size_t i = 0; i < a->n_build_args; i++) {
		const char *eq = strchr(a->build_args[i], '=');
		if (!eq || eq == a->build_args[i]) {
			r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "--build-arg %s: want KEY=VALUE", a->build_args[i]);
			goto out;
		}
		char *k = strndup(a->build_args[i], (size_t)(eq - a->build_args[i]));
		json_object_set_new(b.build_args, k, json_string(eq + 1));
		free(k);
	}
	if ((r = read_recipe(&b, &rc, path, sizeof(path))) < 0)
		goto out;
	load_ignore(&b);
	if ((r = store_tmpdir(s, "build", b.tmp, sizeof(b.tmp), err)) < 0)
		goto out;
	b.stages = calloc(rc.n, sizeof(*b.stages));
	if (!b.stages) {
		r = cap_errf(err, ENOMEM, "build");
		goto out;
	}
	struct stage *st = NULL;
	for (size_t i = 0; i < rc.n && r == 0; i++) {
		const struct recipe_insn *in = &rc.v[i];
		progress_end(s->progress);   /* a line that shows a pull or an unpack is erased first */
		if (!a->quiet)
			fprintf(stderr, "STEP %zu/%zu: %s\n", i + 1, rc.n, in->text);
		if (in->op == RECIPE_ARG && !st) {
			/* before the first FROM: global, for FROM lines */
			for (size_t k = 0; k + 1 < in->nargs; k += 2) {
				json_t *given = json_object_get(b.build_args, in->args[k]);
				const char *v = given ? json_string_value(given) : in->args[k + 1];
				json_object_set_new(b.global_args, in->args[k], v ? json_string(v) : json_null());
			}
			continue;
		}
		if (in->op == RECIPE_FROM) {
			st = &b.stages[b.nstages++];
			r = stage_from(&b, st, in);
			continue;
		}
		switch (in->op) {
		case RECIPE_RUN: r = run_like(&b, st, in, (int)i); break;
		case RECIPE_COPY:
		case RECIPE_ADD: r = copy_like(&b, st, in, (int)i); break;
		default: r = meta(&b, st, in); break;
		}
	}
	if (r == 0 && st)
		r = write_image(&b, st, id);
out:
	if (b.tmp[0])
		remove_tree(b.tmp);
	for (size_t i = 0; i < b.nstages; i++)
		stage_free(&b.stages[i]);
	free(b.stages);
	for (size_t i = 0; i < b.nignore; i++)
		free(b.ignore[i]);
	free(b.ignore);
	recipe_free(&rc);
	json_decref(b.global_args);
	json_decref(b.build_args);
	return r < 0 ? -1 : 0;
}
