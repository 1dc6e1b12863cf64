/* Signalling only the container's own processes in a shared cgroup (cgshared.h). */
#include "cgshared.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

size_t oci_cg_foreign(const struct cg_layout *l, const char *path, unsigned made)
{
	size_t most = 0;
	for (int i = 0; i < l->n; i++) {
		if (made & (1u << i))
			continue;
		/* one hierarchy at a time: cg_pids looks at the first one it prefers */
		struct cg_layout one = { .mode = l->mode, .n = 1 };
		one.h[0] = l->h[i];
		pid_t *pids = NULL;
		size_t n = 0;
		if (cg_pids(&one, path, &pids, &n) == 0 && n > most)
			most = n;
		free(pids);
	}
	return most;
}

struct ns_id { bool set; dev_t dev; ino_t ino; };

static bool ns_of(pid_t pid, const char *kind, struct ns_id *id)
{
	char p[64];
	struct stat sb;
	if (pid)
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", pid, kind);
	else
		snprintf(p, sizeof(p), "/proc/self/ns/%s", kind);
	if (stat(p, &sb) < 0)
		return false;
	id->dev = sb.st_dev;
	id->ino = sb.st_ino;
	return true;
}

/* The recorded namespace of that type, unless it is the runtime's own (then it tells nothing). */
static struct ns_id recorded(json_t *state, const char *type, const char *kind)
{
	struct ns_id r = { 0 }, self;
	json_t *a = json_object_get(state, "namespaces"), *o;
	size_t i;
	json_array_foreach(a, i, o) {
		const char *t = json_string_value(json_object_get(o, "type"));
		json_t *ino = json_object_get(o, "inode"), *dev = json_object_get(o, "dev");
		if (!t || strcmp(t, type) || !json_is_integer(ino) || !json_is_integer(dev))
			continue;
		r.ino = (ino_t)json_integer_value(ino);
		r.dev = (dev_t)json_integer_value(dev);
		r.set = !(ns_of(0, kind, &self) && self.ino == r.ino && self.dev == r.dev);
	}
	return r;
}

static bool same(const struct ns_id *want, pid_t pid, const char *kind)
{
	struct ns_id got;
	return want->set && ns_of(pid, kind, &got) && got.ino == want->ino && got.dev == want->dev;
}

void oci_cg_kill_own(const struct cg_layout *l, const char *path, json_t *state, pid_t init, int sig)
{
	struct ns_id pidns = recorded(state, "pid", "pid"), mntns = recorded(state, "mount", "mnt");
	pid_t *pids = NULL;
	size_t n = 0;
	if (cg_pids(l, path, &pids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if ((init && pids[i] == init) || same(&pidns, pids[i], "pid") || same(&mntns, pids[i], "mnt"))
			kill(pids[i], sig);
	free(pids);
}
