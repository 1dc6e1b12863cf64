#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <jansson.h>

#include "../lib/log.h"
#include "fsutil.h"
#include "layer.h"
#include "progress.h"

#define WH ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_META ".wh..wh."

static void add_filters(struct archive *a)
{
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
}

static struct archive *tar_reader(void)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	add_filters(a);
	archive_read_support_format_tar(a);
	return a;
}

/* The directory holding rel (whose last component is split off into *base), made when
 * missing: each missing component is created inside the root, never through a link out. */
static int open_parent(int rootfd, char *rel, const char **base)
{
	char *slash = strrchr(rel, '/');
	const char *dir = "";
	if (slash) {
		*slash = 0;
		dir = rel;
		*base = slash + 1;
	} else {
		*base = rel;
	}
	int fd = open_in_root(rootfd, dir, O_PATH | O_DIRECTORY, 0);
	if (fd != -ENOENT) {
		if (slash)
			*slash = '/';
		return fd;
	}
	/* Walk down, creating what is missing. */
	char path[PATH_MAX];
	size_t n = strlen(dir);
	if (n >= sizeof(path)) {
		if (slash)
			*slash = '/';
		return -ENAMETOOLONG;
	}
	memcpy(path, dir, n + 1);
	for (char *p = path;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = 0;
		int d = open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
		if (d == -ENOENT) {
			char *ls = strrchr(path, '/');
			const char *leaf = ls ? ls + 1 : path;
			if (ls)
				*ls = 0;
			int pd = open_in_root(rootfd, ls ? path : "", O_PATH | O_DIRECTORY, 0);
			if (ls)
				*ls = '/';
			if (pd < 0) {
				fd = pd;
				break;
			}
			if (mkdirat(pd, leaf, 0755) < 0 && errno != EEXIST) {
				fd = -errno;
				close(pd);
				break;
			}
			close(pd);
			d = open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
		}
		*p = c;
		if (d < 0) {
			fd = d;
			break;
		}
		if (!c) {
			fd = d;
			break;
		}
		close(d);
	}
	if (slash)
		*slash = '/';
	return fd;
}

static bool xattr_allowed(const char *name)
{
	/* overlayfs reads its own xattrs on lower layers: a layer must not forge them. */
	if (!strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13))
		return false;
	return !strncmp(name, "user.", 5) || !strncmp(name, "security.", 9) ||
	       !strncmp(name, "trusted.", 8);
}

static void set_xattrs(struct archive_entry *e, int fd)
{
	const char *name;
	const void *value;
	size_t size;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (!name || !xattr_allowed(name))
			continue;
		if (fsetxattr(fd, name, value, size, 0) < 0)
			cap_debug("layer: xattr %s not set: %s", name, strerror(errno));
	}
}

/* made: fd is a file this entry just created (so it is ours, and needs no chown to us). */
static int set_owner_mode_times(struct archive_entry *e, int fd, bool made, int pfd, const char *base, bool lnk)
{
	int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
	if (uid < 0 || gid < 0 || uid >= UINT32_MAX || gid >= UINT32_MAX)
		return -EINVAL;
	mode_t mode = archive_entry_perm(e) & 07777;
	struct timespec ts[2] = {
		{ .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
		{ .tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e) },
	};
	if (ts[0].tv_nsec < 0 || ts[0].tv_nsec > 999999999)
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (fd >= 0) {
		/* a file we just made is ours already: chown only to someone else */
		static uid_t me = (uid_t)-1;
		static gid_t my_gid;
		if (me == (uid_t)-1) {
			me = geteuid();
			my_gid = getegid();
		}
		if ((!made || uid != me || gid != my_gid) && fchown(fd, (uid_t)uid, (gid_t)gid) < 0 &&
		    errno != EPERM && errno != EINVAL)
			return -errno;
		/* after chown, which clears set-id bits */
		if (fchmod(fd, mode) < 0)
			return -errno;
		set_xattrs(e, fd);
		futimens(fd, ts);
		return 0;
	}
	if (fchownat(pfd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM &&
	    errno != EINVAL)
		return -errno;
	if (!lnk && fchmodat(pfd, base, mode, 0) < 0)
		return -errno;
	utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* The entry's data at its offsets (sparse files keep their holes); *end gets the end of the
 * last block written. */
static int write_data(struct archive *a, int fd, struct layer_stats *st, la_int64_t *end)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	*end = 0;
	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		if (off < 0)
			return -EINVAL;
		const char *p = buf;
		while (size) {
			ssize_t w = pwrite(fd, p, size, off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			p += w;
			size -= (size_t)w;
			off += w;
			st->bytes += (size_t)w;
		}
		if (off > *end)
			*end = off;
	}
	return r == ARCHIVE_EOF ? 0 : -EIO;
}

/* Remove what is under dirfd (the directory rel) unless this layer made it: an opaque
 * whiteout hides the layers below, not the entries of its own layer that came before it. */
static int remove_unseen(int at, const char *rel, json_t *seen, int depth)
{
	if (depth > PATH_MAX / 2)
		return -ELOOP;
	DIR *d = dir_open_at(at);
	if (!d)
		return -errno;
	int fd = dirfd(d);
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		char p[PATH_MAX];
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(p, sizeof(p), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >= (int)sizeof(p)) {
			r = -ENAMETOOLONG;
			break;
		}
		if (!json_object_get(seen, p)) {
			r = remove_tree_at(fd, de->d_name);
			continue;
		}
		int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0) {
			r = remove_unseen(sub, p, seen, depth + 1);
			close(sub);
		}
	}
	closedir(d);
	return r;
}

/* rel and its parents (made by open_parent when the layer did not list them) are this
 * layer's. */
static void mark_seen(json_t *seen, char *rel)
{
	for (char *p = rel; (p = strchr(p, '/')); p++) {
		*p = 0;
		json_object_set_new(seen, rel, json_true());
		*p = '/';
	}
	json_object_set_new(seen, rel, json_true());
}

/* Whiteouts: ".wh.NAME" removes NAME from the layers below; ".wh..wh..opq" hides what the
 * layers below have in its directory. */
static int whiteout(int rootfd, int pfd, const char *dir, const char *base, enum layer_mode mode,
		    json_t *seen)
{
	if (!strcmp(base, WH_OPAQUE)) {
		if (mode == LAYER_APPLY)
			return remove_unseen(pfd, dir, seen, 0);
		int d = open_in_root(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
		if (d < 0)
			return d;
		int r = fsetxattr(d, "trusted.overlay.opaque", "y", 1, 0) < 0 ? -errno : 0;
		close(d);
		return r;
	}
	if (!strncmp(base, WH_META, strlen(WH_META)))
		return 0;       /* aufs bookkeeping (.wh..wh.plnk etc.): nothing to apply */
	const char *name = base + strlen(WH);
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	int r = remove_tree_at(pfd, name);
	if (r < 0 || mode == LAYER_APPLY)
		return r;
	return mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0 ? -errno : 0;
}

/* Make room for a new entry: a directory stays for a directory, anything else goes. */
static int clear_for(int pfd, const char *base, bool want_dir)
{
	struct stat s;
	if (fstatat(pfd, base, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (want_dir && S_ISDIR(s.st_mode))
		return 1;
	return remove_tree_at(pfd, base);
}

static int extract_entry(struct archive *a, struct archive_entry *e, int rootfd, enum layer_mode mode,
			 json_t *seen, struct layer_stats *st, const char **why)
{
	char rel[PATH_MAX], tgt[PATH_MAX];
	const char *name = archive_entry_pathname(e);
	const char *base;
	int r, pfd = -1, fd = -1;

	if (!name) {
		*why = "entry without a name";
		return -EINVAL;
	}
	r = normalize_rel_path(name, rel, sizeof(rel));
	if (r == -EINVAL) {
		*why = "path climbs out of the root ('..')";
		return r;
	}
	if (r < 0)
		return r;
	if (!*rel)
		return 0;       /* the root itself: it is ours, not the layer's */

	const char *hl = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);

	pfd = open_parent(rootfd, rel, &base);
	if (pfd < 0) {
		*why = "its parent directory cannot be opened inside the root";
		return pfd;
	}
	char dir[PATH_MAX];
	size_t dl = (size_t)(base - rel);
	memcpy(dir, rel, dl ? dl - 1 : 0);
	dir[dl ? dl - 1 : 0] = 0;

	if (!strncmp(base, WH, strlen(WH))) {
		r = whiteout(rootfd, pfd, dir, base, mode, seen);
		if (r < 0)
			*why = "whiteout cannot be applied";
		goto out;
	}

	if (hl) {
		r = normalize_rel_path(hl, tgt, sizeof(tgt));
		if (r < 0 || !*tgt) {
			*why = "hard link target climbs out of the root";
			r = -EINVAL;
			goto out;
		}
		/* the target must already exist inside the root: its directory is resolved in the
		 * root, never made, and linkat does not follow a final symlink */
		bool self = !strcmp(tgt, rel);
		char *ts_ = strrchr(tgt, '/');
		const char *tbase = ts_ ? ts_ + 1 : tgt;
		if (ts_)
			*ts_ = 0;
		int tpfd = open_in_root(rootfd, ts_ ? tgt : "", O_PATH | O_DIRECTORY, 0);
		if (tpfd < 0) {
			*why = "hard link target's directory is not in the root";
			r = tpfd;
			goto out;
		}
		struct stat ts;
		if (fstatat(tpfd, tbase, &ts, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(ts.st_mode)) {
			close(tpfd);
			*why = "hard link target is missing or a directory";
			r = -EINVAL;
			goto out;
		}
		if (!self) {
			if ((r = clear_for(pfd, base, false)) < 0)
				goto out_t;
			if (linkat(tpfd, tbase, pfd, base, 0) < 0) {
				r = -errno;
				*why = "hard link cannot be made";
			}
		}
out_t:
		close(tpfd);
		goto out;
	}

	r = clear_for(pfd, base, type == AE_IFDIR);
	if (r < 0) {
		*why = "the existing entry cannot be replaced";
		goto out;
	}
	switch (type) {
	case AE_IFREG:
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			r = -errno;
			break;
		}
		la_int64_t end;
		if ((r = write_data(a, fd, st, &end)) < 0) {
			*why = "its data cannot be read or written";
			break;
		}
		/* a sparse file's hole at its end */
		if (archive_entry_size_is_set(e) && archive_entry_size(e) > end &&
		    ftruncate(fd, archive_entry_size(e)) < 0) {
			r = -errno;
			break;
		}
		r = set_owner_mode_times(e, fd, true, pfd, base, false);
		break;
	case AE_IFDIR:
		if (r == 0 && mkdirat(pfd, base, 0755) < 0) {
			r = -errno;
			break;
		}
		bool made = r == 0;
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			break;
		}
		r = set_owner_mode_times(e, fd, made, pfd, base, false);
		break;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!target || !*target) {
			*why = "symlink without a target";
			r = -EINVAL;
			break;
		}
		if (symlinkat(target, pfd, base) < 0) {
			r = -errno;
			break;
		}
		r = set_owner_mode_times(e, -1, true, pfd, base, true);
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (mknodat(pfd, base, type | (archive_entry_perm(e) & 0777), archive_entry_rdev(e)) < 0) {
			if (errno == EPERM && type != AE_IFIFO) {
				cap_debug("layer: device %s skipped (not permitted here)", rel);
				r = 0;
				break;
			}
			r = -errno;
			break;
		}
		r = set_owner_mode_times(e, -1, true, pfd, base, false);
		break;
	default:
		cap_debug("layer: %s of type %o skipped", rel, (unsigned)type);
		r = 0;
		break;
	}
	if (r < 0 && !*why)
		*why = "it cannot be created";
	if (r == 0 && seen)
		mark_seen(seen, rel);
out:
	if (fd >= 0)
		close(fd);
	close(pfd);
	st->entries++;
	return r;
}

static int extract(struct archive *a, int rootfd, enum layer_mode mode, struct layer_stats *stp,
		   const char *what, cap_err *err)
{
	struct layer_stats local = { 0 };
	struct layer_stats *st = stp ? stp : &local;
	struct archive_entry *e;
	int r;
	/* what this layer wrote, for opaque whiteouts when they are applied (not needed for
	 * overlay markers, which only hide the layers below) */
	json_t *seen = mode == LAYER_APPLY ? json_object() : NULL;

	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *why = NULL;
		int x = extract_entry(a, e, rootfd, mode, seen, st, &why);
		progress_step(st->progress, st->label, (unsigned long long)archive_filter_bytes(a, -1), st->in_size, false);
		if (x < 0) {
			const char *n = archive_entry_pathname(e);
			json_decref(seen);
			if (why)
				return cap_errf(err, x == -EINVAL ? 0 : -x, "%s: entry '%.200s': %s",
						what, n ? n : "?", why);
			return cap_errf(err, -x, "%s: entry '%.200s'", what, n ? n : "?");
		}
	}
	json_decref(seen);
	progress_step(st->progress, st->label, (unsigned long long)archive_filter_bytes(a, -1), st->in_size, true);
	if (r != ARCHIVE_EOF)
		return cap_errf(err, 0, "%s: not a valid tar archive: %s", what,
				archive_error_string(a) ? archive_error_string(a) : "read error");
	return 0;
}

int layer_extract_file(const char *path, const char *what, int rootfd, enum layer_mode mode,
		       struct layer_stats *st, cap_err *err)
{
	struct archive *a = tar_reader();
	if (!what)
		what = path;
	if (!a)
		return cap_errf(err, ENOMEM, "%s", what);
	int r;
	struct stat sb;
	if (st && stat(path, &sb) == 0)
		st->in_size = (unsigned long long)sb.st_size;
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK)
		r = cap_errf(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "%s: cannot be opened: %s", what,
			     archive_error_string(a));
	else
		r = extract(a, rootfd, mode, st, what, err);
	archive_read_free(a);
	return r;
}

int layer_extract_mem(const void *buf, size_t len, int rootfd, enum layer_mode mode,
		      struct layer_stats *st, cap_err *err)
{
	struct archive *a = tar_reader();
	if (!a)
		return cap_errf(err, ENOMEM, "layer");
	int r;
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK)
		r = cap_errf(err, 0, "layer: not a valid tar archive: %s", archive_error_string(a));
	else
		r = extract(a, rootfd, mode, st, "layer", err);
	archive_read_free(a);
	return r;
}

static struct archive *raw_reader(const char *path, cap_err *err)
{
	struct archive *a = archive_read_new();
	if (!a) {
		cap_errf(err, ENOMEM, "layer %s", path);
		return NULL;
	}
	add_filters(a);
	archive_read_support_format_raw(a);
	struct archive_entry *e;
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		cap_errf(err, 0, "layer %s: cannot be read: %s", path,
			 archive_error_string(a) ? archive_error_string(a) : "empty");
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static const char *compression_of(struct archive *a)
{
	int n = archive_filter_count(a);
	if (n <= 1)
		return "none";
	switch (archive_filter_code(a, 0)) {
	case ARCHIVE_FILTER_GZIP: return "gzip";
	case ARCHIVE_FILTER_ZSTD: return "zstd";
	case ARCHIVE_FILTER_XZ: return "xz";
	case ARCHIVE_FILTER_BZIP2: return "bzip2";
	default: return "unknown";
	}
}

int layer_diff_id(const char *path, char diff_id[DIGEST_STR_LEN + 1], const char **compression,
		  cap_err *err)
{
	struct archive *a = raw_reader(path, err);
	if (!a)
		return -EINVAL;
	struct digester d;
	digester_init(&d);
	char buf[1 << 16];
	la_ssize_t n;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		digester_update(&d, buf, (size_t)n);
	int r = 0;
	if (n < 0)
		r = cap_errf(err, 0, "layer %s: cannot be decompressed: %s", path, archive_error_string(a));
	else {
		digester_final(&d, diff_id);
		if (compression)
			*compression = compression_of(a);
	}
	archive_read_free(a);
	return r;
}

int layer_decompress_to(const char *path, int out, cap_err *err)
{
	struct archive *a = raw_reader(path, err);
	if (!a)
		return -EINVAL;
	char buf[1 << 16];
	la_ssize_t n;
	int r = 0;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		if ((r = write_all(out, buf, (size_t)n)) < 0) {
			r = cap_errf(err, -r, "layer %s: writing the decompressed copy", path);
			break;
		}
	if (n < 0 && !r)
		r = cap_errf(err, 0, "layer %s: cannot be decompressed: %s", path, archive_error_string(a));
	archive_read_free(a);
	return r;
}
