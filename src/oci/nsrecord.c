/* The namespaces recorded at create and joined by exec (nsrecord.h). */
#include "nsrecord.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/nsfs.h>
#include <unistd.h>

#include "cgroup.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The user namespace first: it owns the others and grants the right to join them. */
static const int join_order[] = { CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET,
				  CLONE_NEWPID, CLONE_NEWCGROUP, CLONE_NEWTIME, CLONE_NEWNS };

/* The /proc/PID/ns entry exec joins: a time namespace made by unshare is the init's own only
 * once it has exec'd; time_for_children is it before and after. */
static const char *ns_entry(int flag)
{
	return flag == CLONE_NEWTIME ? "time_for_children" : oci_ns_proc_name(flag);
}

static int ns_stat_pid(pid_t pid, int flag, struct stat *sb)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/ns/%s", pid, ns_entry(flag));
	return stat(p, sb) < 0 ? -errno : 0;
}

int oci_ns_record(const struct oci_ctx *c, pid_t init, json_t *state, cap_err *err)
{
	const struct oci_spec *s = c->spec;
	json_t *arr = json_array();

	for (size_t i = 0; i < s->n_ns; i++) {
		int f = s->ns[i].flag;
		struct stat sb;
		bool known = false;
		json_t *o = json_pack("{s:s}", "type", oci_ns_name(f));
		if (s->ns[i].path) {
			for (int k = 0; k < c->n_ns_fd && !known; k++)
				if (c->ns_flag[k] == f && fstat(c->ns_fd[k], &sb) == 0)
					known = true;
		} else if (f != CLONE_NEWCGROUP && f != CLONE_NEWTIME) {
			int r = ns_stat_pid(init, f, &sb);
			if (r < 0) {
				json_decref(o);
				json_decref(arr);
				return cap_errf(err, -r, "cannot read the %s namespace of the container init %d",
						oci_ns_name(f), init);
			}
			known = true;
		}
		if (known) {
			json_object_set_new(o, "inode", json_integer((json_int_t)sb.st_ino));
			json_object_set_new(o, "dev", json_integer((json_int_t)sb.st_dev));
		}
		json_array_append_new(arr, o);
	}
	json_object_set_new(state, "namespaces", arr);
	return 0;
}

/* Open namespace kind `flag` of pid; 1 and *fd if it is (ino, dev) (or any, when ino is 0),
 * 0 if it is another, -errno if it cannot be opened. */
static int open_if(pid_t pid, int flag, ino_t ino, dev_t dev, int *fd)
{
	char p[64];
	struct stat sb;
	snprintf(p, sizeof(p), "/proc/%d/ns/%s", pid, ns_entry(flag));
	int f = open(p, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -errno;
	if (fstat(f, &sb) < 0) {
		int e = errno;
		close(f);
		return -e;
	}
	if (ino && (sb.st_ino != ino || sb.st_dev != dev)) {
		close(f);
		return 0;
	}
	*fd = f;
	return 1;
}

/* The recorded namespace in some other process of the container (the init left it). */
static int open_from_cgroup(struct oci_ctx *c, pid_t init, int flag, ino_t ino, dev_t dev, int *fd)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int found = 0;
	if (cg_pids(&c->cg, c->cgpath, &pids, &n) < 0)
		n = 0;
	for (size_t i = 0; i < n && found <= 0; i++)
		if (pids[i] != init)
			found = open_if(pids[i], flag, ino, dev, fd);
	free(pids);
	return found > 0;
}

static json_t *recorded(json_t *rec, int flag)
{
	size_t i;
	json_t *o;
	json_array_foreach(rec, i, o)
		if (oci_ns_flag(json_string_value(json_object_get(o, "type")) ?: "") == flag)
			return o;
	return NULL;
}

/* A user namespace the init left is still the owner of the container's other namespaces:
 * NS_GET_USERNS on one of them (already opened and checked) reaches it. */
static bool owner_of_opened(const struct oci_ctx *c, ino_t ino, dev_t dev, int *fd)
{
	for (int i = 0; i < c->n_ns_fd; i++) {
		struct stat sb;
		int u = ioctl(c->ns_fd[i], NS_GET_USERNS);
		if (u < 0)
			continue;
		if (fstat(u, &sb) == 0 && sb.st_ino == ino && sb.st_dev == dev) {
			*fd = u;
			return true;
		}
		close(u);
	}
	return false;
}

static bool same_as_ours(int flag, int fd)
{
	struct stat ours, sb;
	return ns_stat_pid(getpid(), flag, &ours) == 0 && fstat(fd, &sb) == 0 && sb.st_ino == ours.st_ino &&
	       sb.st_dev == ours.st_dev;
}

int oci_ns_open_recorded(struct oci_ctx *c, json_t *rec, pid_t init, cap_err *err)
{
	size_t i;
	json_t *o;

	if (!json_is_array(rec))
		return cap_errf(err, 0, "container %s: state.json: namespaces is not an array", c->id);
	json_array_foreach(rec, i, o)
		if (oci_ns_flag(json_string_value(json_object_get(o, "type")) ?: "") < 0)
			return cap_errf(err, 0, "container %s: state.json: namespaces[%zu]: unknown type", c->id, i);
	/* The user namespace is looked for last (it may be found through the others) and put
	 * first (joined first). */
	size_t nk = sizeof(join_order) / sizeof(join_order[0]);
	for (size_t k = 1; k <= nk; k++) {
		int flag = join_order[k % nk], fd = -1;
		if (!(o = recorded(rec, flag)))
			continue;
		ino_t ino = (ino_t)json_integer_value(json_object_get(o, "inode"));
		dev_t dev = (dev_t)json_integer_value(json_object_get(o, "dev"));
		int r = open_if(init, flag, ino, dev, &fd);
		if (r < 0)
			return cap_errf(err, -r, "exec: cannot open the %s namespace of container %s (init %d)",
					oci_ns_name(flag), c->id, init);
		if (r == 0 && !(flag == CLONE_NEWUSER && owner_of_opened(c, ino, dev, &fd)) &&
		    !open_from_cgroup(c, init, flag, ino, dev, &fd))
			return cap_errf(err, 0,
					"exec: container %s: its %s namespace is gone (the init left the one it was created with, and no process of the container is in it)",
					c->id, oci_ns_name(flag));
		/* Ours already (shared through a path): a user namespace cannot be joined twice. */
		if (same_as_ours(flag, fd)) {
			close(fd);
			continue;
		}
		if (flag == CLONE_NEWUSER) {
			memmove(c->ns_fd + 1, c->ns_fd, (size_t)c->n_ns_fd * sizeof(c->ns_fd[0]));
			memmove(c->ns_flag + 1, c->ns_flag, (size_t)c->n_ns_fd * sizeof(c->ns_flag[0]));
			c->ns_fd[0] = fd;
			c->ns_flag[0] = flag;
			c->n_ns_fd++;
		} else {
			c->ns_fd[c->n_ns_fd] = fd;
			c->ns_flag[c->n_ns_fd++] = flag;
		}
	}
	return 0;
}
