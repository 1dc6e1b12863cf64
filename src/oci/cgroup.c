/* Cgroup layout detection and the version-independent operations. */
#include "cgroup.h"
#include "cgfile.h"
#include "cgroup-v1.h"
#include "cgroup-v2.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

bool cg_has_ctrl(const struct cg_hier *h, const char *ctrl)
{
	return cg_list_has(h->opts, ctrl);
}

/* mountinfo lists a mount even when another one hides it (a tmpfs mounted over the hybrid
 * host's "unified" mount in a private namespace, as crun needs): only a hierarchy whose
 * mount point really is that cgroup filesystem counts. */
static bool reachable(const char *mnt, bool v2)
{
	struct statfs sf;
	return statfs(mnt, &sf) == 0 &&
	       (unsigned long)sf.f_type == (unsigned long)(v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC);
}

/* mountinfo field 5 is the mount point, after " - " come fstype, source, super options. */
static void add_mount(struct cg_layout *l, char *line)
{
	char *f[7] = { 0 }, *save = NULL, *p = line;
	int i;
	for (i = 0; i < 5 && (f[i] = strtok_r(p, " ", &save)); i++)
		p = NULL;
	char *dash = strstr(save ? save : "", " - ");
	if (i < 5 || !dash)
		return;
	char *fstype = strtok_r(dash + 3, " ", &save);
	strtok_r(NULL, " ", &save);
	char *sopts = strtok_r(NULL, " \n", &save);
	if (!fstype || l->n >= CG_MAX_HIER)
		return;
	bool v2 = !strcmp(fstype, "cgroup2");
	if ((!v2 && strcmp(fstype, "cgroup")) || !reachable(f[4], v2))
		return;
	/* Only a mount of the hierarchy's root (mountinfo field 4 is "/"): paths are resolved
	 * from it. A bind of one cgroup, such as a container's /sys/fs/cgroup seen here when it
	 * shares our mount namespace, is not the hierarchy (and is read-only). */
	if (strcmp(f[3], "/"))
		return;
	struct cg_hier *h = &l->h[l->n];
	memset(h, 0, sizeof(*h));
	h->v2 = v2;
	snprintf(h->mnt, sizeof(h->mnt), "%s", f[4]);
	if (!v2 && sopts) {
		/* keep only controller names and name=... */
		char *s2 = NULL, *o;
		for (o = strtok_r(sopts, ",", &s2); o; o = strtok_r(NULL, ",", &s2)) {
			if (!strcmp(o, "rw") || !strcmp(o, "ro") || !strcmp(o, "relatime") ||
			    !strncmp(o, "release_agent", 13) || !strcmp(o, "clone_children") ||
			    !strcmp(o, "noprefix") || !strcmp(o, "xattr") || !strcmp(o, "cpuset_v2_mode"))
				continue;
			if (*h->opts)
				strncat(h->opts, ",", sizeof(h->opts) - strlen(h->opts) - 1);
			strncat(h->opts, o, sizeof(h->opts) - strlen(h->opts) - 1);
		}
	}
	/* The same hierarchy mounted twice: keep the first. */
	for (int k = 0; k < l->n; k++)
		if (l->h[k].v2 == v2 && !strcmp(l->h[k].opts, h->opts))
			return;
	l->n++;
}

int cg_layout_detect(struct cg_layout *l, cap_err *err)
{
	char line[4096];
	FILE *f;

	memset(l, 0, sizeof(*l));
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return cap_errf(err, errno, "cgroup: cannot read /proc/self/mountinfo");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " - cgroup"))
			add_mount(l, line);
	fclose(f);
	int nv1 = 0, nv2 = 0;
	for (int i = 0; i < l->n; i++)
		l->h[i].v2 ? nv2++ : nv1++;
	if (!l->n)
		return cap_errf(err, 0, "cgroup: no cgroup filesystem is mounted");
	l->mode = nv1 ? (nv2 ? CG_HYBRID : CG_V1) : CG_V2;

	/* Our own cgroup per hierarchy, for relative cgroupsPath. */
	f = fopen("/proc/self/cgroup", "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			if (!c2)
				continue;
			*c2 = 0;
			line[strcspn(line, "\n")] = 0;
			char *path = c2 + 1;
			path[strcspn(path, "\n")] = 0;
			for (int i = 0; i < l->n; i++) {
				struct cg_hier *h = &l->h[i];
				bool match = h->v2 ? c1[1] == 0 : !strcmp(c1 + 1, h->opts);
				if (match)
					snprintf(h->own, sizeof(h->own), "%s", path);
			}
		}
		fclose(f);
	}
	return 0;
}

/* "machine-libpod.slice" -> "/machine.slice/machine-libpod.slice", as systemd nests them. */
static void expand_slice(const char *slice, char *out, size_t sz)
{
	size_t o = 0;
	out[0] = 0;
	if (!*slice || !strcmp(slice, "-.slice"))
		return;
	const char *end = strstr(slice, ".slice");
	size_t len = end ? (size_t)(end - slice) : strlen(slice);
	for (size_t i = 0; i <= len; i++) {
		if (i == len || slice[i] == '-') {
			o += (size_t)snprintf(out + o, o < sz ? sz - o : 0, "/%.*s.slice", (int)i, slice);
		}
	}
}

/* Normalise a cgroup path into out ("/a/b", no trailing or doubled slash). Any "." or ".."
 * component is refused rather than resolved: "/a/sub/.." must not become "/a", and a
 * relative "../x" would leave the caller's cgroup. */
static int clean_path(const char *cp, const char *in, char *out, size_t sz, cap_err *err)
{
	size_t o = 0;
	const char *p = in;
	out[0] = 0;
	while (*p) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (!n)
			break;
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return cap_errf(err, 0, "config.json: linux.cgroupsPath: '%s' must not contain . or .. components",
					cp);
		if (o + n + 2 > sz)
			return cap_errf(err, 0, "config.json: linux.cgroupsPath: '%s' is too long", cp);
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		out[o] = 0;
		p += n;
	}
	if (!o)
		return cap_errf(err, 0, "config.json: linux.cgroupsPath: '%s' names the root cgroup", cp);
	return 0;
}

int cg_resolve_path(struct cg_layout *l, const char *cp, const char *id, bool systemd,
		    char *out, size_t outsz, cap_err *err)
{
	char raw[PATH_MAX];
	bool relative = false;
	if (systemd && cp && *cp && cp[0] != '/') {
		char slice[256], prefix[256], name[256], exp[PATH_MAX];
		const char *a = strchr(cp, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			return cap_errf(err, 0, "config.json: linux.cgroupsPath: '%s' is not slice:prefix:name",
					cp);
		snprintf(slice, sizeof(slice), "%.*s", (int)(a - cp), cp);
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(b - a - 1), a + 1);
		snprintf(name, sizeof(name), "%s", b + 1);
		if (strchr(slice, '/') || strchr(prefix, '/') || strchr(name, '/'))
			return cap_errf(err, 0, "config.json: linux.cgroupsPath: '%s': slice, prefix and name must not contain /",
					cp);
		expand_slice(*slice ? slice : "system.slice", exp, sizeof(exp));
		if (*prefix)
			snprintf(raw, sizeof(raw), "%s/%s-%s.scope", exp, prefix, name);
		else
			snprintf(raw, sizeof(raw), "%s/%s", exp, name);
	} else if (!cp || !*cp) {
		if (systemd)
			snprintf(raw, sizeof(raw), "/system.slice/capsule-%s.scope", id);
		else
			snprintf(raw, sizeof(raw), "/%s", id);
	} else {
		relative = cp[0] != '/';
		snprintf(raw, sizeof(raw), "%s", cp);
	}
	int r = clean_path(cp ? cp : "", raw, out, outsz, err);
	if (r < 0)
		return -EINVAL;
	for (int i = 0; i < l->n; i++) {
		struct cg_hier *h = &l->h[i];
		h->base[0] = 0;
		cap_err tmp = { 0 };
		/* (an own cgroup outside our cgroup namespace reads as "/..": no base to build on) */
		if (relative && strcmp(h->own, "/") && *h->own &&
		    clean_path(h->own, h->own, h->base, sizeof(h->base), &tmp) < 0)
			return cap_errf(err, 0, "config.json: linux.cgroupsPath: '%s' is relative, but the runtime's own cgroup in %s is '%s'",
					cp, h->v2 ? "cgroup2" : h->opts, h->own);
	}
	return 0;
}

json_t *cg_bases_json(const struct cg_layout *l)
{
	json_t *o = NULL;
	for (int i = 0; i < l->n; i++) {
		if (!*l->h[i].base)
			continue;
		if (!o)
			o = json_object();
		json_object_set_new(o, l->h[i].v2 ? "" : l->h[i].opts, json_string(l->h[i].base));
	}
	return o;
}

void cg_layout_bind(struct cg_layout *l, json_t *bases)
{
	for (int i = 0; i < l->n; i++) {
		json_t *v = bases ? json_object_get(bases, l->h[i].v2 ? "" : l->h[i].opts) : NULL;
		const char *b = json_string_value(v);
		/* a prefix from state.json goes through the same checks as a fresh one */
		cap_err tmp = { 0 };
		if (!b || clean_path(b, b, l->h[i].base, sizeof(l->h[i].base), &tmp) < 0)
			l->h[i].base[0] = 0;
	}
}

void cg_dir(const struct cg_hier *h, const char *path, char *out, size_t sz)
{
	/* Too long for out: "" rather than a cut path, which could name an ancestor. */
	size_t a = strlen(h->mnt), b = strlen(h->base), c = strlen(path);
	if (a + b + c >= sz) {
		out[0] = 0;
		return;
	}
	memcpy(out, h->mnt, a);
	memcpy(out + a, h->base, b);
	memcpy(out + a + b, path, c + 1);
}

#define hier_dir cg_dir

/* cpuset v1 children start empty; a task cannot join until cpus and mems are copied. */
static int cpuset_fill(const char *dir, cap_err *err)
{
	char parent[PATH_MAX], buf[256];
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = 0;
	for (int i = 0; i < 2; i++) {
		if (cg_read(dir, files[i], buf, sizeof(buf)) > 1)
			continue;
		if (cg_read(parent, files[i], buf, sizeof(buf)) <= 0)
			continue;
		int r = cg_write(dir, files[i], buf, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* mkdir -p, setting *made_any when it made a directory and *first_made to the length of the
 * first one it made (0 if none). An ancestor that another runtime's delete removes between
 * our seeing it and making its child (ENOENT) is made again. */
static int mkdir_tree(const struct cg_hier *h, const char *dir, bool *made_any, size_t *first_made,
		      cap_err *err)
{
	char p[PATH_MAX];
	size_t base = strlen(h->mnt);
	snprintf(p, sizeof(p), "%s", dir);
	for (int tries = 0;; tries++) {
		bool again = false;
		for (char *s = p + base + 1; ; s++) {
			if (*s != '/' && *s)
				continue;
			char c = *s;
			*s = 0;
			bool exists = false;
			if (mkdir(p, 0755) == 0) {
				*made_any = true;
				if (!*first_made)
					*first_made = strlen(p);
				exists = true;
			} else if (errno == ENOENT && tries < 10) {
				again = true;
			} else if (errno != EEXIST) {
				return cap_errf(err, errno, "cgroup: cannot create %s", p);
			} else {
				exists = true;
			}
			/* An ancestor someone made with `mkdir` has no cpus or mems either, and no
			 * task could join below it: filled like ours (runc does the same). */
			if (exists && !h->v2 && cg_has_ctrl(h, "cpuset")) {
				int r = cpuset_fill(p, err);
				if (r < 0)
					return r;
			}
			*s = c;
			if (!c || again)
				break;
		}
		if (!again)
			return 0;
	}
}

static bool has_v1_ctrl(const struct cg_layout *l, const char *ctrl)
{
	for (int i = 0; i < l->n; i++)
		if (!l->h[i].v2 && cg_has_ctrl(&l->h[i], ctrl))
			return true;
	return false;
}

/* The runtime-spec: a value the runtime cannot apply is an error, not something to drop.
 * These have no cgroup v2 equivalent; on v1 they need their controller mounted. */
static int check_applicable(const struct cg_layout *l, const struct oci_resources *r, cap_err *err)
{
	static const char *const w = "config.json: linux.resources";
	if (r->has_classid && !has_v1_ctrl(l, "net_cls"))
		return cap_errf(err, 0, "%s.network.classID: the host has no net_cls cgroup hierarchy", w);
	if (r->n_prio && !has_v1_ctrl(l, "net_prio"))
		return cap_errf(err, 0, "%s.network.priorities: the host has no net_prio cgroup hierarchy", w);
	if (r->mem_kernel_tcp != -1 && !has_v1_ctrl(l, "memory"))
		return cap_errf(err, 0, "%s.memory.kernelTCP: needs the cgroup v1 memory controller (v2 has no TCP limit)",
				w);
	if (r->mem_kernel != -1 && !has_v1_ctrl(l, "memory"))
		return cap_errf(err, 0, "%s.memory.kernel: needs the cgroup v1 memory controller (v2 has no kernel memory limit)",
				w);
	return 0;
}

int cg_apply(const struct cg_layout *l, const char *path, const struct oci_resources *res,
	     cap_err *err)
{
	char dir[PATH_MAX];
	if (!res)
		return 0;
	if (check_applicable(l, res, err) < 0)
		return -EINVAL;
	for (int i = 0; i < l->n; i++) {
		const struct cg_hier *h = &l->h[i];
		hier_dir(h, path, dir, sizeof(dir));
		int r = h->v2 ? cg_v2_apply(dir, res, l->mode == CG_HYBRID, err)
			      : cg_v1_apply(h->opts, dir, res, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_create(struct cg_layout *l, const char *path, const struct oci_resources *res,
	      unsigned *made_mask, cap_err *err)
{
	char dir[PATH_MAX];
	int r = 0;

	*made_mask = 0;
	/* before any directory exists: nothing to undo */
	if (res && check_applicable(l, res, err) < 0)
		return -EINVAL;
	for (int i = 0; i < l->n; i++) {
		struct cg_hier *h = &l->h[i];
		bool made = false;
		size_t first = 0;
		hier_dir(h, path, dir, sizeof(dir));
		/* Pure v2, and the hybrid "unified" mount (hugetlb here): a nested path gets a
		 * controller's files only if every ancestor enables it in its subtree_control. */
		if (h->v2) {
			char full[PATH_MAX];
			snprintf(full, sizeof(full), "%s%s", h->base, path);
			r = cg_v2_enable_controllers(h->mnt, full, &first, err);
		}
		if (r == 0)
			r = mkdir_tree(h, dir, &made, &first, err);
		if (made || first)
			*made_mask |= 1u << i;
		/* (as a length of path: the directory is the mount point, then path) */
		size_t plen = strlen(path), dlen = strlen(dir);
		h->made_len = first && dlen >= plen && first > dlen - plen ? first - (dlen - plen) : 0;
		if (r < 0)
			goto fail;
	}
	r = cg_apply(l, path, res, err);
	if (r < 0)
		goto fail;
	return 0;
fail:
	/* Only what we made: a cgroup that existed before is not ours to remove. */
	cg_destroy_some(l, path, *made_mask);
	*made_mask = 0;
	return r;
}

int cg_enter(const struct cg_layout *l, const char *path, pid_t pid, cap_err *err)
{
	char dir[PATH_MAX];
	for (int i = 0; i < l->n; i++) {
		hier_dir(&l->h[i], path, dir, sizeof(dir));
		int r = cg_writef(dir, "cgroup.procs", err, "%d", pid);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every pid in dir's cgroup.procs and in those of its descendants. */
static int collect_pids(const char *dir, pid_t **pids, size_t *n, size_t *cap, int depth)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	FILE *f = fopen(p, "re");
	if (!f)
		return depth ? 0 : -errno;   /* a child removed meanwhile is no error */
	int pid;
	while (fscanf(f, "%d", &pid) == 1) {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			pid_t *np = realloc(*pids, *cap * sizeof(pid_t));
			if (!np) {
				fclose(f);
				return -ENOMEM;
			}
			*pids = np;
		}
		(*pids)[(*n)++] = pid;
	}
	fclose(f);
	if (depth > 64)
		return 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;
	while (d && r == 0 && (de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			r = collect_pids(p, pids, n, cap, depth + 1);
		}
	if (d)
		closedir(d);
	return r;
}

/* rmdir dir after its sub-cgroups, deepest first. A task just killed leaves its cgroup a
 * moment later: EBUSY is retried while *budget (5 ms steps) lasts. */
static int rmdir_tree(const char *dir, int *budget, int depth)
{
	DIR *d = depth > 64 ? NULL : opendir(dir);
	struct dirent *de;
	int ret = 0;
	while (d && (de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			int r = rmdir_tree(p, budget, depth + 1);
			if (r < 0 && !ret)
				ret = r;
		}
	if (d)
		closedir(d);
	for (;;) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return ret;
		if (errno != EBUSY || *budget <= 0)
			return -errno;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		(*budget)--;
	}
}

/* The ancestors of path that create made in h, deepest first, while they are empty. */
static void rmdir_made_ancestors(const struct cg_hier *h, const char *path)
{
	char p[PATH_MAX], dir[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	for (char *slash; h->made_len && (slash = strrchr(p, '/')) && slash > p;) {
		*slash = 0;
		if (strlen(p) < h->made_len)
			break;
		hier_dir(h, p, dir, sizeof(dir));
		if (rmdir(dir) < 0 && errno != ENOENT)
			break;
	}
}

int cg_destroy_some(const struct cg_layout *l, const char *path, unsigned mask)
{
	char dir[PATH_MAX];
	int ret = 0, budget = 200;
	if (!path || !*path || !strcmp(path, "/"))
		return 0;
	for (int i = 0; i < l->n; i++) {
		if (!(mask & (1u << i)))
			continue;
		hier_dir(&l->h[i], path, dir, sizeof(dir));
		int r = rmdir_tree(dir, &budget, 0);
		if (r < 0 && !ret)
			ret = r;
		if (r == 0)
			rmdir_made_ancestors(&l->h[i], path);
	}
	return ret;
}

json_t *cg_made_json(const struct cg_layout *l, const char *path)
{
	json_t *o = NULL;
	for (int i = 0; i < l->n; i++) {
		const struct cg_hier *h = &l->h[i];
		if (!h->made_len || h->made_len >= strlen(path))
			continue;   /* none, or only the container's own directory */
		if (!o)
			o = json_object();
		json_object_set_new(o, h->v2 ? "" : h->opts, json_stringn(path, h->made_len));
	}
	return o;
}

void cg_made_bind(struct cg_layout *l, const char *path, json_t *made)
{
	size_t plen = path ? strlen(path) : 0;
	for (int i = 0; i < l->n; i++) {
		struct cg_hier *h = &l->h[i];
		const char *v = json_string_value(made ? json_object_get(made, h->v2 ? "" : h->opts) : NULL);
		size_t n = v ? strlen(v) : 0;
		/* a proper ancestor of path, never a hierarchy's root */
		h->made_len = n > 1 && n < plen && !strncmp(path, v, n) && path[n] == '/' ? n : 0;
	}
}

int cg_destroy(const struct cg_layout *l, const char *path)
{
	return cg_destroy_some(l, path, ~0u);
}

int cg_pids(const struct cg_layout *l, const char *path, pid_t **pids, size_t *n)
{
	char dir[PATH_MAX];
	size_t cap = 0;
	*pids = NULL;
	*n = 0;
	if (!l->n)
		return 0;
	/* Prefer a v1 pids/memory/freezer hierarchy; on v2 the only tree. */
	const struct cg_hier *h = &l->h[0];
	for (int i = 0; i < l->n; i++)
		if ((!l->h[i].v2 && cg_has_ctrl(&l->h[i], "pids")) || l->mode == CG_V2)
			h = &l->h[i];
	hier_dir(h, path, dir, sizeof(dir));
	return collect_pids(dir, pids, n, &cap, 0);
}

int cg_kill_all(const struct cg_layout *l, const char *path, int sig)
{
	char dir[PATH_MAX];
	pid_t *pids = NULL;
	size_t n = 0;
	/* Never a hierarchy's root (a state.json from before cgroupsPath was normalised could
	 * name it): that would be every process of the host. */
	if (!path || !*path || !strcmp(path, "/"))
		return -EINVAL;
	/* cgroup.kill (v2, 5.14+) kills the whole subtree, forks racing it included. */
	if (sig == SIGKILL && l->mode == CG_V2 && l->n) {
		cap_err tmp = { 0 };
		hier_dir(&l->h[0], path, dir, sizeof(dir));
		if (cg_write(dir, "cgroup.kill", "1", &tmp) == 0)
			return 0;
	}
	int r = cg_pids(l, path, &pids, &n);
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
	free(pids);
	return r;
}

int cg_freeze(const struct cg_layout *l, const char *path, bool freeze, cap_err *err)
{
	char dir[PATH_MAX], buf[64];
	for (int i = 0; i < l->n; i++) {
		const struct cg_hier *h = &l->h[i];
		hier_dir(h, path, dir, sizeof(dir));
		if (l->mode == CG_V2) {
			int r = cg_write(dir, "cgroup.freeze", freeze ? "1" : "0", err);
			if (r < 0)
				return r;
			return 0;
		}
		if (h->v2 || !cg_has_ctrl(h, "freezer"))
			continue;
		int r = cg_write(dir, "freezer.state", freeze ? "FROZEN" : "THAWED", err);
		if (r < 0)
			return r;
		/* FREEZING is transient; wait until the kernel reports the final state. */
		for (int t = 0; t < 1000; t++) {
			if (cg_read(dir, "freezer.state", buf, sizeof(buf)) > 0 &&
			    !strncmp(buf, freeze ? "FROZEN" : "THAWED", 6))
				return 0;
			struct timespec ts = { 0, 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		return cap_errf(err, EBUSY, "cgroup: %s did not become %s", dir,
				freeze ? "FROZEN" : "THAWED");
	}
	return cap_errf(err, ENOTSUP, "cgroup: no freezer available");
}
