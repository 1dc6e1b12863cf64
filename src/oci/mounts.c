/* The container's root file system: config mounts, default devices, pivot_root,
 * masked and read-only paths, read-only root.
 *
 * Mount targets are resolved inside the rootfs with openat2(RESOLVE_IN_ROOT), so a
 * symlink in the image cannot point a mount outside it; the mount goes onto the
 * resolved /proc/self/fd/N. */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lsm.h"
#include "sync.h"

static int openat2_in(int dirfd, const char *path, int flags)
{
	struct open_how how = { .flags = (unsigned long long)flags | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Open (creating as a directory, or as a file when is_file) path inside root. */
static int make_in_root(int rootfd, const char *path, bool is_file)
{
	int fd = openat2_in(rootfd, path, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	const char *base = slash ? slash + 1 : parent;
	if (slash)
		*slash = 0;
	int pfd = make_in_root(rootfd, slash && *parent ? parent : "/", false);
	if (pfd < 0)
		return -1;
	/* pfd is O_PATH: reopen it as a directory to create in. */
	char pp[64];
	snprintf(pp, sizeof(pp), "/proc/self/fd/%d", pfd);
	int dfd = open(pp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(pfd);
	if (dfd < 0)
		return -1;
	int r;
	if (is_file) {
		r = openat(dfd, base, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (r >= 0)
			close(r);
		else if (errno == EEXIST)
			r = 0;
	} else {
		r = mkdirat(dfd, base, 0755);
		if (r < 0 && errno == EEXIST)
			r = 0;
	}
	int e = errno;
	close(dfd);
	if (r < 0) {
		errno = e;
		return -1;
	}
	return openat2_in(rootfd, path, O_PATH);
}

static void fdpath(int fd, char *buf, size_t sz)
{
	snprintf(buf, sz, "/proc/self/fd/%d", fd);
}

/* A bind remount must keep the flags the kernel locked on the source (nodev etc.
 * in a user namespace); retry with them when the plain remount is refused. */
static int remount_bind(const char *target, unsigned long flags)
{
	if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0)
		return 0;
	if (errno != EPERM)
		return -1;
	struct statvfs sv;
	if (statvfs(target, &sv) < 0)
		return -1;
	unsigned long locked = 0;
	if (sv.f_flag & ST_NOSUID) locked |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV) locked |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC) locked |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME) locked |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME) locked |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME) locked |= MS_RELATIME;
	return mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags | locked, NULL);
}

static bool have_dev_tmpfs(const struct oci_spec *s)
{
	for (size_t i = 0; i < s->n_mounts; i++)
		if (!strcmp(s->mounts[i].dest, "/dev"))
			return !s->mounts[i].bind;
	return false;
}

/* cgroup mounts: v1 gets a tmpfs with one bind of the container's cgroup per hierarchy;
 * v2 a bind of the container's cgroup (a cgroup namespace makes it look like the root). */
static int mount_cgroup(struct oci_ctx *c, int rootfd, const struct oci_mount *m, const char *target,
			cap_err *err)
{
	unsigned long ro = m->flags & MS_RDONLY;
	unsigned long fl = (m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME)) ;
	char src[2 * PATH_MAX + 8], p[PATH_MAX + 64], t[64];

	/* The parent creates the cgroup while we build the rootfs. */
	if (oci_child_wait_cgroup(c, false) < 0)
		return cap_errf(err, EPIPE, "lost the runtime while waiting for the cgroup");

	if (c->cg.mode == CG_V2) {
		if (c->spec->clone_flags & CLONE_NEWCGROUP) {
			if (mount("cgroup2", target, "cgroup2", fl | ro, NULL) < 0)
				return cap_errf(err, errno, "mount cgroup2 on %s", m->dest);
			return 0;
		}
		cg_dir(&c->cg.h[0], c->cgpath, src, sizeof(src));
		if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
			return cap_errf(err, errno, "bind %s on %s", src, m->dest);
		int fd = openat2_in(rootfd, m->dest, O_PATH);
		fdpath(fd, p, sizeof(p));
		int r = fd < 0 ? -1 : remount_bind(p, fl | ro);
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (r < 0)
			return cap_errf(err, e, "remount %s", m->dest);
		return 0;
	}
	if (mount("tmpfs", target, "tmpfs", fl & ~MS_RELATIME, "mode=755") < 0)
		return cap_errf(err, errno, "mount tmpfs on %s", m->dest);
	for (int i = 0; i < c->cg.n; i++) {
		const struct cg_hier *h = &c->cg.h[i];
		const char *name = strrchr(h->mnt, '/');
		name = name ? name + 1 : h->mnt;
		snprintf(p, sizeof(p), "%s/%s", m->dest, name);
		int fd = make_in_root(rootfd, p, false);
		if (fd < 0)
			return cap_errf(err, errno, "mounts: cannot create %s", p);
		fdpath(fd, t, sizeof(t));
		cg_dir(h, c->cgpath, src, sizeof(src));
		int r = mount(src, t, NULL, MS_BIND | MS_REC, NULL);
		close(fd);
		if (r == 0) {
			/* The old fd names the covered directory; remount the new mount. */
			fd = openat2_in(rootfd, p, O_PATH);
			fdpath(fd, t, sizeof(t));
			r = fd < 0 ? -1 : remount_bind(t, fl | ro);
			if (fd >= 0)
				close(fd);
		}
		if (r < 0)
			return cap_errf(err, errno, "bind %s on %s", src, p);
	}
	/* Compatibility links like the host's, e.g. cpu,cpuacct -> cpu. */
	if (ro) {
		int fd = openat2_in(rootfd, m->dest, O_PATH);
		if (fd >= 0) {
			fdpath(fd, t, sizeof(t));
			mount(NULL, t, NULL, MS_REMOUNT | MS_RDONLY | fl, NULL);
			close(fd);
		}
	}
	return 0;
}

static int do_mount(struct oci_ctx *c, int rootfd, const struct oci_mount *m, cap_err *err)
{
	struct stat st;
	bool is_file = false;
	char target[64];
	int r = 0;

	if (m->bind) {
		if (stat(m->source, &st) < 0)
			return cap_errf(err, errno, "mounts: bind source %s", m->source);
		is_file = !S_ISDIR(st.st_mode);
	}
	/* proc and sysfs go on a real directory where the config says (runc's rule): never
	 * through a symlink of the image (/sys -> /etc would put sysfs over its /etc). */
	if (!m->bind && (!strcmp(m->type, "proc") || !strcmp(m->type, "sysfs"))) {
		struct open_how how = { .flags = O_PATH | O_CLOEXEC,
					.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
		const char *rel = m->dest;
		while (*rel == '/')
			rel++;
		int pfd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
		if (pfd < 0 && errno == ELOOP)
			return cap_errf(err, 0, "mounts: %s is a symlink in the rootfs (%s is mounted only on a directory)",
					m->dest, m->type);
		if (pfd >= 0) {
			bool dir = fstat(pfd, &st) == 0 && S_ISDIR(st.st_mode);
			close(pfd);
			if (!dir)
				return cap_errf(err, 0, "mounts: %s is not a directory in the rootfs (%s is mounted only on a directory)",
						m->dest, m->type);
		}
	}
	int fd = make_in_root(rootfd, m->dest, is_file);
	if (fd < 0)
		return cap_errf(err, errno, "mounts: cannot create %s in the rootfs", m->dest);
	fdpath(fd, target, sizeof(target));
	unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);

	if (m->bind) {
		if (mount(m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0) {
			r = cap_errf(err, errno, "mounts: bind %s on %s", m->source, m->dest);
			goto out;
		}
		/* Reopen: the fd still names the directory under the new mount. */
		close(fd);
		fd = openat2_in(rootfd, m->dest, O_PATH);
		fdpath(fd, target, sizeof(target));
		if (flags && remount_bind(target, flags) < 0) {
			r = cap_errf(err, errno, "mounts: remount %s", m->dest);
			goto out;
		}
	} else if (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2")) {
		r = mount_cgroup(c, rootfd, m, target, err);
		if (r < 0)
			goto out;
	} else {
		const char *src = m->source ? m->source : m->type, *data = *m->data ? m->data : NULL;
		char labelled[4096];
		if (oci_lsm_mount_data(c->spec->mount_label, m->type, data, labelled, sizeof(labelled), &data) < 0) {
			r = cap_errf(err, 0, "mounts: %s: options with linux.mountLabel too long", m->dest);
			goto out;
		}
		if (mount(src, target, m->type, flags, data) < 0) {
			int e = errno;
			/* sysfs cannot be mounted without a network namespace of our own
			 * (and mqueue without an ipc one): fall back to binding the host's. */
			const char *fb = !strcmp(m->type, "sysfs") ? "/sys" :
					 !strcmp(m->type, "mqueue") ? "/dev/mqueue" : NULL;
			if (!(fb && (e == EPERM || e == EINVAL) &&
			      mount(fb, target, NULL, MS_BIND | MS_REC, NULL) == 0)) {
				r = cap_errf(err, e, "mounts: mount %s on %s", m->type, m->dest);
				goto out;
			}
			close(fd);
			fd = openat2_in(rootfd, m->dest, O_PATH);
			fdpath(fd, target, sizeof(target));
			remount_bind(target, flags);
		}
	}
	if (m->propagation) {
		close(fd);
		fd = openat2_in(rootfd, m->dest, O_PATH);
		fdpath(fd, target, sizeof(target));
		if (mount(NULL, target, NULL, m->propagation, NULL) < 0) {
			r = cap_errf(err, errno, "mounts: propagation of %s", m->dest);
			goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static const struct { const char *path; unsigned maj, min; } default_devs[] = {
	{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

/* The directory dir inside the root (created if missing), opened for *at() calls: every
 * node below /dev is then made relative to it, so a symlink in the image (/dev -> /etc on
 * the host) cannot send an unlink, mknod, chown or symlink outside the rootfs. */
static int dir_in_root(int rootfd, const char *dir)
{
	char pp[64];
	int pfd = make_in_root(rootfd, dir, false);
	if (pfd < 0)
		return -1;
	fdpath(pfd, pp, sizeof(pp));
	int dfd = open(pp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e = errno;
	close(pfd);
	errno = e;
	return dfd;
}

/* Split an absolute path into its directory (opened inside the root) and last component. */
static int split_in_root(int rootfd, const char *path, char *base, size_t basesz)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = 0;
	char *slash = strrchr(dir, '/');
	const char *b = slash ? slash + 1 : dir;
	if (!*b || !strcmp(b, ".") || !strcmp(b, "..") || strlen(b) >= basesz) {
		errno = EINVAL;
		return -1;
	}
	snprintf(base, basesz, "%s", b);
	if (slash)
		*slash = 0;
	return dir_in_root(rootfd, slash && *dir ? dir : "/");
}

static int make_device(struct oci_ctx *c, int rootfd, const char *path, char type, unsigned maj,
		       unsigned min, mode_t mode, uid_t uid, gid_t gid, cap_err *err)
{
	char base[NAME_MAX + 1], t[64];
	int r = 0, fd = -1;
	int dfd = split_in_root(rootfd, path, base, sizeof(base));
	if (dfd < 0)
		return cap_errf(err, errno, "devices: cannot create the directory of %s", path);
	/* Whatever the image has there (a file, a symlink) is replaced, never followed. */
	if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT) {
		r = cap_errf(err, errno, "devices: cannot replace %s", path);
		goto out;
	}
	/* mknod is not allowed in a user namespace: bind the host's node instead. */
	if (oci_spec_userns(c->spec)) {
		fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0) {
			close(fd);
			fd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			r = cap_errf(err, errno, "devices: cannot create %s", path);
			goto out;
		}
		fdpath(fd, t, sizeof(t));
		if (mount(path, t, NULL, MS_BIND, NULL) < 0)
			r = cap_errf(err, errno, "devices: bind %s", path);
		goto out;
	}
	mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
	if (mknodat(dfd, base, kind | mode, makedev(maj, min)) < 0) {
		r = cap_errf(err, errno, "devices: mknod %s", path);
		goto out;
	}
	fd = openat(dfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = cap_errf(err, errno, "devices: cannot open %s", path);
		goto out;
	}
	/* An O_PATH fd cannot fchmod; its /proc/self/fd link names the node itself. */
	fdpath(fd, t, sizeof(t));
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 || chmod(t, mode) < 0)
		r = cap_errf(err, errno, "devices: chown %s", path);
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return r;
}

static int setup_dev(struct oci_ctx *c, int rootfd, cap_err *err)
{
	struct oci_spec *s = c->spec;
	int r;
	bool devtmpfs = have_dev_tmpfs(s);

	if (devtmpfs) {
		for (size_t i = 0; i < sizeof(default_devs) / sizeof(default_devs[0]); i++) {
			r = make_device(c, rootfd, default_devs[i].path, 'c', default_devs[i].maj,
					default_devs[i].min, 0666, 0, 0, err);
			if (r < 0)
				return r;
		}
		static const char *const links[][2] = {
			{ "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
			{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
			{ "pts/ptmx", "ptmx" },
		};
		int dfd = dir_in_root(rootfd, "/dev");
		if (dfd < 0)
			return cap_errf(err, errno, "devices: cannot open /dev in the rootfs");
		for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
			if (!strcmp(links[i][1], "ptmx"))
				unlinkat(dfd, links[i][1], 0);
			if (symlinkat(links[i][0], dfd, links[i][1]) < 0 && errno != EEXIST) {
				r = cap_errf(err, errno, "devices: symlink /dev/%s", links[i][1]);
				close(dfd);
				return r;
			}
		}
		close(dfd);
	}
	for (size_t i = 0; i < s->n_devices; i++) {
		const struct oci_device *d = &s->devices[i];
		r = make_device(c, rootfd, d->path, d->type, (unsigned)d->major, (unsigned)d->minor,
				d->has_mode ? d->mode : 0666, d->has_uid ? d->uid : 0,
				d->has_gid ? d->gid : 0, err);
		if (r < 0)
			return r;
	}
	return 0;
}

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

/* The id of the mount path is the root of; 0 when it is not a mount root. The unique id
 * (Linux 6.8) where the kernel has it: a plain one can be reused once the mount is gone. */
static uint64_t mount_root_id(const char *path)
{
	struct statx sx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID | STATX_MNT_ID_UNIQUE, &sx) < 0 ||
	    !(sx.stx_mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE)) ||
	    !(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) || !(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return 0;
	return sx.stx_mnt_id;
}

int oci_rootfs_host_bind(const char *rootfs, int *tree_fd, uint64_t *mnt_id, cap_err *err)
{
	*mnt_id = 0;
	*tree_fd = open_tree(AT_FDCWD, rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (*tree_fd < 0)
		return cap_errf(err, errno, "cannot bind the rootfs %s", rootfs);
	/* Private: the host's mount events stay out, the container's stay in. */
	struct mount_attr ma = { .propagation = MS_PRIVATE };
	struct statx sx;
	int r = 0;
	if (mount_setattr(*tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof(ma)) < 0)
		r = cap_errf(err, errno, "cannot make the bind of the rootfs %s private", rootfs);
	else if (statx(*tree_fd, "", AT_EMPTY_PATH, STATX_MNT_ID | STATX_MNT_ID_UNIQUE, &sx) < 0 ||
		 !(sx.stx_mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE)))
		r = cap_errf(err, errno, "cannot identify the bind of the rootfs %s (statx)", rootfs);
	if (r < 0) {
		close(*tree_fd);
		*tree_fd = -1;
		return r;
	}
	*mnt_id = sx.stx_mnt_id;
	return 0;
}

int oci_rootfs_host_attach(const char *rootfs, int tree_fd, cap_err *err)
{
	if (move_mount(tree_fd, "", AT_FDCWD, rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return cap_errf(err, errno, "cannot bind the rootfs %s", rootfs);
	return 0;
}

void oci_rootfs_host_release(const char *rootfs, uint64_t mnt_id)
{
	/* Only ours: whatever else is mounted there (an image's overlay) belongs to others. */
	if (mnt_id && mount_root_id(rootfs) == mnt_id)
		umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW);
}

int oci_rootfs_setup(struct oci_ctx *c, cap_err *err)
{
	struct oci_spec *s = c->spec;
	int rootfd = -1, r = 0;

	/* A mount namespace of its own, new or joined, is the container's to change. Without
	 * one, the runtime has made c->rootfs a private bind (oci_rootfs_host_bind): the
	 * mounts go under it and / of the host stays as it is. */
	if (oci_spec_has_ns(s, CLONE_NEWNS)) {
		/* Nothing we mount may propagate back to the host; and pivot_root refuses a shared
		 * parent, so a shared rootfsPropagation is applied only after it (oci_rootfs_pivot). */
		unsigned long prop = (s->rootfs_propagation & MS_PRIVATE) ? MS_PRIVATE : MS_SLAVE;
		if (mount(NULL, "/", NULL, prop | MS_REC, NULL) < 0)
			return cap_errf(err, errno, "cannot set the propagation of /");
		if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
			return cap_errf(err, errno, "cannot bind the rootfs %s", c->rootfs);
	}
	rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cap_errf(err, errno, "cannot open the rootfs %s", c->rootfs);
	for (size_t i = 0; i < s->n_mounts; i++) {
		r = do_mount(c, rootfd, &s->mounts[i], err);
		if (r < 0) {
			cap_err_prefix(err, "config.json: mounts[%zu]", i);
			goto out;
		}
	}
	r = setup_dev(c, rootfd, err);
out:
	close(rootfd);
	return r;
}

int oci_rootfs_pivot(struct oci_ctx *c, cap_err *err)
{
	struct oci_spec *s = c->spec;

	/* pivot_root in the host's namespace would move the root of every process there. */
	if (!oci_spec_has_ns(s, CLONE_NEWNS)) {
		if (chroot(c->rootfs) < 0 || chdir("/") < 0)
			return cap_errf(err, errno, "chroot %s", c->rootfs);
		return 0;
	}
	if (c->no_pivot) {
		if (chdir(c->rootfs) < 0 || mount(c->rootfs, "/", NULL, MS_MOVE, NULL) < 0 ||
		    chroot(".") < 0 || chdir("/") < 0)
			return cap_errf(err, errno, "cannot move the rootfs to /");
		return 0;
	}
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		return cap_errf(err, errno, "open /");
	int r = 0;
	/* pivot_root(".", ".") stacks the old root under the new one; detach it. */
	if (chdir(c->rootfs) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) {
		r = cap_errf(err, errno, "pivot_root to %s", c->rootfs);
		goto out;
	}
	if (fchdir(oldroot) < 0 || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
		r = cap_errf(err, errno, "cannot detach the old root");
		goto out;
	}
	if (s->rootfs_propagation && mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0) {
		r = cap_errf(err, errno, "linux.rootfsPropagation: cannot apply");
		goto out;
	}
out:
	close(oldroot);
	return r;
}

int oci_rootfs_finish(struct oci_ctx *c, cap_err *err)
{
	struct oci_spec *s = c->spec;
	struct stat st;

	/* / is the rootfs's own bind in every case (without a mount namespace, the runtime's). */
	if (s->root_readonly && remount_bind("/", MS_RDONLY) < 0)
		return cap_errf(err, errno, "root.readonly: cannot remount / read-only");
	for (size_t i = 0; i < s->n_masked; i++) {
		const char *p = s->masked[i];
		if (stat(p, &st) < 0)
			continue;
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k")
					    : mount("/dev/null", p, NULL, MS_BIND, NULL);
		if (r < 0 && errno != ENOENT)
			return cap_errf(err, errno, "linux.maskedPaths[%zu]: cannot mask %s", i, p);
	}
	for (size_t i = 0; i < s->n_readonly; i++) {
		const char *p = s->readonly[i];
		if (stat(p, &st) < 0)
			continue;
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    remount_bind(p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0) {
			if (errno == ENOENT)
				continue;
			return cap_errf(err, errno, "linux.readonlyPaths[%zu]: cannot make %s read-only", i, p);
		}
	}
	return 0;
}
