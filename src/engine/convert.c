#include "convert.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../oci/spec_builder.h"

/* An image's /etc file, opened inside rootfs (a symlink in the image resolves in the image). */
static FILE *open_in_root(const char *rootfs, const char *path)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int dfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	int fd = (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
	close(dfd);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno || v > 0xfffffffeUL)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Field i (0-based) of a ':'-separated line, into buf. */
static bool field(const char *line, int i, char *buf, size_t sz)
{
	const char *p = line;
	for (; i > 0; i--) {
		p = strchr(p, ':');
		if (!p)
			return false;
		p++;
	}
	size_t n = strcspn(p, ":\n");
	if (n >= sz)
		return false;
	memcpy(buf, p, n);
	buf[n] = 0;
	return true;
}

/* passwd: a name or uid -> uid, primary gid, name. */
static int find_user(const char *rootfs, const char *user, uint32_t *uid, uint32_t *gid, char *name,
		     size_t namesz)
{
	FILE *f = open_in_root(rootfs, "/etc/passwd");
	char line[1024], nm[256], u[32], g[32];
	uint32_t want;
	bool numeric = parse_u32(user, &want);
	int r = -ENOENT;
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		uint32_t lu, lg;
		if (!field(line, 0, nm, sizeof(nm)) || !field(line, 2, u, sizeof(u)) || !field(line, 3, g, sizeof(g)) ||
		    !parse_u32(u, &lu) || !parse_u32(g, &lg))
			continue;
		if (numeric ? lu == want : !strcmp(nm, user)) {
			*uid = lu, *gid = lg;
			snprintf(name, namesz, "%s", nm);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

/* group: a name or gid -> gid; with member, also collect the groups listing member. */
static int scan_groups(const char *rootfs, const char *group, uint32_t *gid, const char *member, uint32_t *groups,
		       size_t max, size_t *n)
{
	FILE *f = open_in_root(rootfs, "/etc/group");
	char line[4096], nm[256], g[32], members[3072];
	int r = -ENOENT;
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		uint32_t lg;
		if (!field(line, 0, nm, sizeof(nm)) || !field(line, 2, g, sizeof(g)) || !parse_u32(g, &lg))
			continue;
		if (group && !strcmp(nm, group)) {
			*gid = lg;
			r = 0;
		}
		if (member && groups && field(line, 3, members, sizeof(members))) {
			for (char *save, *m = strtok_r(members, ",", &save); m; m = strtok_r(NULL, ",", &save))
				if (!strcmp(m, member) && *n < max) {
					groups[(*n)++] = lg;
					break;
				}
		}
	}
	fclose(f);
	return group ? r : 0;
}

int engine_resolve_user(const char *rootfs, const char *spec, uint32_t *uid, uint32_t *gid, uint32_t *groups,
			size_t max, size_t *ngroups, cap_err *err)
{
	char user[256], name[256] = "";
	const char *colon = strchr(spec, ':');
	const char *group = colon ? colon + 1 : NULL;
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	*ngroups = 0;
	if (ulen == 0 || ulen >= sizeof(user) || (group && !*group))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "user '%s': want USER[:GROUP] (names or numbers)", spec);
	memcpy(user, spec, ulen);
	user[ulen] = 0;
	/* A number need not be in passwd (gid 0 then, as docker does); a name must be. */
	if (find_user(rootfs, user, uid, gid, name, sizeof(name)) < 0) {
		if (!parse_u32(user, uid))
			return cap_errf(err, 0, "user %s: not in the image's /etc/passwd", user);
		*gid = 0;
	}
	if (group) {
		if (!parse_u32(group, gid) && scan_groups(rootfs, group, gid, NULL, NULL, 0, NULL) < 0)
			return cap_errf(err, 0, "group %s: not in the image's /etc/group", group);
	} else if (name[0]) {
		scan_groups(rootfs, NULL, NULL, name, groups, max, ngroups);
	}
	return 0;
}

static const json_t *cfg_get(const json_t *image_config, const char *key)
{
	const json_t *c = image_config ? json_object_get(image_config, "config") : NULL;
	return c ? json_object_get(c, key) : NULL;
}

static int strings_of(const json_t *arr, const char **out, size_t max, size_t *n, const char *what, cap_err *err)
{
	size_t i;
	const json_t *v;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return cap_errf(err, 0, "image config: %s is not an array", what);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return cap_errf(err, 0, "image config: %s[%zu] is not a string", what, i);
		if (*n == max)
			return cap_errf(err, 0, "image config: %s has more than %zu entries", what, max);
		out[(*n)++] = json_string_value(v);
	}
	return 0;
}

#define MAX_ARGS 4096

static int set_args(json_t *spec, const json_t *image_config, const struct engine_run_opts *o, cap_err *err)
{
	const char **args = calloc(MAX_ARGS, sizeof(*args));
	size_t n = 0;
	int r = 0;
	if (!args)
		return cap_errf(err, ENOMEM, "process args");
	if (o->entrypoint) {
		if (*o->entrypoint)
			args[n++] = o->entrypoint;
	} else {
		r = strings_of(cfg_get(image_config, "Entrypoint"), args, MAX_ARGS, &n, "Entrypoint", err);
	}
	if (r == 0 && o->n_cmd) {
		for (size_t i = 0; i < o->n_cmd && r == 0; i++)
			if (n == MAX_ARGS)
				r = cap_errf(err, 0, "command: more than %d arguments", MAX_ARGS);
			else
				args[n++] = o->cmd[i];
	} else if (r == 0 && !o->entrypoint) {
		/* An --entrypoint drops the image's Cmd (docker's rule). */
		r = strings_of(cfg_get(image_config, "Cmd"), args, MAX_ARGS, &n, "Cmd", err);
	}
	if (r == 0 && n == 0)
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "no command: the image has no Entrypoint or Cmd, give one");
	if (r == 0)
		r = oci_sb_set_args(spec, args, n, err);
	free(args);
	return r;
}

static int set_env(json_t *spec, const json_t *image_config, const struct engine_run_opts *o, cap_err *err)
{
	const json_t *env = cfg_get(image_config, "Env"), *v;
	size_t i;
	int r;
	/* The default config's env is the baseline (its PATH); the image's entries, then -e, win. */
	if ((r = oci_sb_set_env(spec, ENGINE_DEFAULT_PATH, err)) < 0)
		return r;
	if (env && !json_is_null(env)) {
		if (!json_is_array(env))
			return cap_errf(err, 0, "image config: Env is not an array");
		json_array_foreach(env, i, v) {
			if (!json_is_string(v) || !strchr(json_string_value(v), '='))
				return cap_errf(err, 0, "image config: Env[%zu] is not KEY=VALUE", i);
			if ((r = oci_sb_set_env(spec, json_string_value(v), err)) < 0)
				return r;
		}
	}
	for (i = 0; i < o->n_env; i++) {
		const char *kv = o->env[i];
		char buf[8192];
		if (!strchr(kv, '=')) {
			const char *val = getenv(kv);
			if (!val)
				continue; /* -e NAME with NAME unset: nothing, as docker */
			if (snprintf(buf, sizeof(buf), "%s=%s", kv, val) >= (int)sizeof(buf))
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "env %s: longer than %zu bytes", kv, sizeof(buf));
			kv = buf;
		}
		if (kv[0] == '=')
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "env '%s': want KEY=VALUE", o->env[i]);
		if ((r = oci_sb_set_env(spec, kv, err)) < 0)
			return r;
	}
	return 0;
}

static int set_user(json_t *spec, const json_t *image_config, const char *rootfs, const struct engine_run_opts *o,
		    cap_err *err)
{
	const json_t *u = cfg_get(image_config, "User");
	const char *user = o->user ? o->user : json_is_string(u) ? json_string_value(u) : NULL;
	uint32_t uid, gid, groups[64];
	size_t ng;
	if (!user || !*user)
		return 0;
	int r = engine_resolve_user(rootfs, user, &uid, &gid, groups, 64, &ng, err);
	if (r < 0)
		return r;
	return oci_sb_set_user(spec, uid, gid, (const gid_t *)groups, ng, err);
}

static int set_annotations(json_t *spec, const json_t *image_config, cap_err *err)
{
	const json_t *ports = cfg_get(image_config, "ExposedPorts"), *stop = cfg_get(image_config, "StopSignal");
	const json_t *labels = cfg_get(image_config, "Labels"), *v;
	const char *k;
	int r;
	if (json_is_object(labels))
		json_object_foreach((json_t *)labels, k, v)
			if (json_is_string(v) && (r = oci_sb_set_annotation(spec, k, json_string_value(v), err)) < 0)
				return r;
	if (json_is_object(ports) && json_object_size(ports)) {
		char list[4096] = "";
		size_t len = 0;
		json_object_foreach((json_t *)ports, k, v) {
			int w = snprintf(list + len, sizeof(list) - len, "%s%s", len ? "," : "", k);
			if (w < 0 || (size_t)w >= sizeof(list) - len)
				break;
			len += (size_t)w;
		}
		if ((r = oci_sb_set_annotation(spec, "org.opencontainers.image.exposedPorts", list, err)) < 0)
			return r;
	}
	if (json_is_string(stop) &&
	    (r = oci_sb_set_annotation(spec, "org.opencontainers.image.stopSignal", json_string_value(stop), err)) < 0)
		return r;
	return 0;
}

int engine_spec_from_image(json_t *spec, const json_t *image_config, const char *rootfs,
			   const struct engine_run_opts *o, cap_err *err)
{
	const json_t *wd = cfg_get(image_config, "WorkingDir");
	const char *cwd = o->workdir ? o->workdir : json_is_string(wd) && *json_string_value(wd) ? json_string_value(wd) : "/";
	int r;
	if (cwd[0] != '/')
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "working directory '%s': want an absolute path", cwd);
	if ((r = set_args(spec, image_config, o, err)) < 0 || (r = set_env(spec, image_config, o, err)) < 0 ||
	    (r = oci_sb_set_cwd(spec, cwd, err)) < 0 || (r = set_user(spec, image_config, rootfs, o, err)) < 0 ||
	    (r = set_annotations(spec, image_config, err)) < 0 || (r = oci_sb_set_terminal(spec, o->tty, err)) < 0)
		return r;
	if (o->hostname && (r = oci_sb_set_hostname(spec, o->hostname, err)) < 0)
		return r;
	if (o->memory > 0 && (r = oci_sb_set_memory_limit(spec, o->memory, err)) < 0)
		return r;
	if (o->cpus > 0 && (r = oci_sb_set_cpu(spec, 0, (int64_t)(o->cpus * 100000), 100000, err)) < 0)
		return r;
	if (o->pids > 0 && (r = oci_sb_set_pids_limit(spec, o->pids, err)) < 0)
		return r;
	return 0;
}
