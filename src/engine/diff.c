/* An overlay upper directory as an OCI layer tar: what a build step changed. overlayfs marks
 * a deleted name with a 0:0 character device and a directory that hides the lower ones with the
 * trusted.overlay.opaque xattr; the layer carries them as the image-spec's whiteouts (.wh.NAME
 * and .wh..wh..opq). Written with libarchive (pax), uncompressed, so that its digest is its
 * diff id. */
#include "diff.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct walk {
	struct archive *a;
	cap_err *err;
	size_t entries;
};

static int add(struct walk *w, const char *name, const struct stat *st, const char *link, int datafd)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_mode(e, st->st_mode);
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	archive_entry_set_size(e, S_ISREG(st->st_mode) ? st->st_size : 0);
	if (link)
		archive_entry_set_symlink(e, link);
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		archive_entry_set_rdev(e, st->st_rdev);
	int r = archive_write_header(w->a, e) == ARCHIVE_OK ? 0 : -EIO;
	archive_entry_free(e);
	if (r == 0 && datafd >= 0) {
		char buf[65536];
		ssize_t n;
		while ((n = read(datafd, buf, sizeof(buf))) > 0)
			if (archive_write_data(w->a, buf, (size_t)n) != n) {
				r = -EIO;
				break;
			}
		if (n < 0)
			r = -errno;
	}
	w->entries++;
	if (r < 0)
		return cap_errf(w->err, r == -EIO ? 0 : -r, "layer entry %s: %s", name,
				r == -EIO ? archive_error_string(w->a) : "read");
	return 0;
}

static int walk_dir(struct walk *w, int fd, const char *prefix)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return cap_errf(w->err, errno, "layer directory %s", prefix);
	}
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char name[PATH_MAX];
		if (snprintf(name, sizeof(name), "%s%s", prefix, de->d_name) >= (int)sizeof(name)) {
			r = cap_errf(w->err, ENAMETOOLONG, "layer entry %s%s", prefix, de->d_name);
			break;
		}
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = cap_errf(w->err, errno, "layer entry %s", name);
			break;
		}
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
			char wh[PATH_MAX + 8];
			struct stat f = st;
			f.st_mode = S_IFREG | 0644;
			f.st_size = 0;
			snprintf(wh, sizeof(wh), "%s.wh.%s", prefix, de->d_name);
			r = add(w, wh, &f, NULL, -1);
		} else if (S_ISDIR(st.st_mode)) {
			char dname[PATH_MAX + 2], opq[4] = "";
			snprintf(dname, sizeof(dname), "%s/", name);
			if ((r = add(w, dname, &st, NULL, -1)) < 0)
				break;
			int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				r = cap_errf(w->err, errno, "layer directory %s", name);
				break;
			}
			char self[64];
			snprintf(self, sizeof(self), "/proc/self/fd/%d", sub);
			if (getxattr(self, "trusted.overlay.opaque", opq, sizeof(opq) - 1) == 1 && opq[0] == 'y') {
				char o[PATH_MAX + 16];
				struct stat f = st;
				f.st_mode = S_IFREG | 0644;
				f.st_size = 0;
				snprintf(o, sizeof(o), "%s.wh..wh..opq", dname);
				if ((r = add(w, o, &f, NULL, -1)) < 0) {
					close(sub);
					break;
				}
			}
			r = walk_dir(w, sub, dname);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
			if (n < 0) {
				r = cap_errf(w->err, errno, "layer entry %s", name);
				break;
			}
			target[n] = 0;
			r = add(w, name, &st, target, -1);
		} else if (S_ISREG(st.st_mode)) {
			int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				r = cap_errf(w->err, errno, "layer entry %s", name);
				break;
			}
			r = add(w, name, &st, NULL, fd);
			close(fd);
		} else {
			r = add(w, name, &st, NULL, -1); /* fifos, devices */
		}
	}
	closedir(d);
	return r;
}

int engine_diff_to_tar(const char *upper, int out, size_t *entries, cap_err *err)
{
	int dfd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cap_errf(err, errno, "%s", upper);
	struct walk w = { .a = archive_write_new(), .err = err };
	int r;
	if (!w.a || archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
	    archive_write_open_fd(w.a, out) != ARCHIVE_OK) {
		close(dfd);
		r = cap_errf(err, 0, "layer tar: %s", w.a ? archive_error_string(w.a) : "out of memory");
		if (w.a)
			archive_write_free(w.a);
		return r;
	}
	r = walk_dir(&w, dfd, "");
	if (archive_write_close(w.a) != ARCHIVE_OK && r == 0)
		r = cap_errf(err, 0, "layer tar: %s", archive_error_string(w.a));
	archive_write_free(w.a);
	if (entries)
		*entries = w.entries;
	return r;
}
