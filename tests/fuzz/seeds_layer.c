/* Writes the seed corpus of fuzz_layer into the directory argv[1]: small tars (libarchive's
 * pax writer) with every entry kind the extractor handles: files, directories, symlinks, hard
 * links, devices, whiteouts, opaque markers, xattrs, and the escapes it must refuse; each
 * prefixed with the target's mode byte (0 applied, 1 overlay), plain and gzip. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ent {
	const char *name;
	int type;
	const char *link;   /* symlink target or hard link target */
	const char *data;
	const char *xattr;
};

static const struct ent S_BASIC[] = {
	{ "etc", AE_IFDIR, 0, 0, 0 },
	{ "etc/hello", AE_IFREG, 0, "hello\n", 0 },
	{ "bin/sh", AE_IFLNK, "busybox", 0, 0 },
	{ "bin/busybox", AE_IFREG, 0, "\x7f" "ELF", 0 },
	{ "bin/ls", 0, "bin/busybox", 0, 0 },
	{ "dev/null", AE_IFCHR, 0, 0, 0 },
	{ "run/fifo", AE_IFIFO, 0, 0, 0 },
	{ 0 },
};
static const struct ent S_WHITEOUT[] = {
	{ "d/new", AE_IFREG, 0, "new\n", 0 },
	{ "d/.wh..wh..opq", AE_IFREG, 0, "", 0 },
	{ "etc/.wh.gone", AE_IFREG, 0, "", 0 },
	{ ".wh..wh.plnk", AE_IFDIR, 0, 0, 0 },
	{ 0 },
};
static const struct ent S_XATTR[] = {
	{ "d", AE_IFDIR, 0, 0, "trusted.overlay.opaque" },
	{ "d/f", AE_IFREG, 0, "f", "user.x" },
	{ 0 },
};
static const struct ent S_ESCAPE[] = {
	{ "../../etc/x", AE_IFREG, 0, "x", 0 },
	{ "esc", AE_IFLNK, "/tmp", 0, 0 },
	{ "esc/pwned", AE_IFREG, 0, "p", 0 },
	{ "up", AE_IFLNK, "../../../../", 0, 0 },
	{ "up/pwned", AE_IFREG, 0, "p", 0 },
	{ "pw", 0, "/etc/passwd", 0, 0 },
	{ "pw2", 0, "../../etc/passwd", 0, 0 },
	{ 0 },
};

static void put(const char *dir, const char *name, int gzip, int mode, const struct ent *ents)
{
	static char buf[1 << 16];
	size_t used = 0;
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_memory(a, buf, sizeof(buf), &used) != ARCHIVE_OK)
		exit(1);
	for (const struct ent *e = ents; e->name; e++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e->name);
		if (e->type == 0) {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e->link);
		} else {
			archive_entry_set_filetype(ae, (unsigned)e->type);
		}
		if (e->type == AE_IFLNK)
			archive_entry_set_symlink(ae, e->link);
		archive_entry_set_perm(ae, e->type == AE_IFDIR ? 0755 : 0644);
		if (e->xattr)
			archive_entry_xattr_add_entry(ae, e->xattr, "y", 1);
		size_t n = e->data ? strlen(e->data) : 0;
		archive_entry_set_size(ae, (la_int64_t)n);
		archive_write_header(a, ae);
		if (n)
			archive_write_data(a, e->data, n);
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
	char path[4096];
	snprintf(path, sizeof(path), "%s/seed-%s-%s-%d", dir, name, gzip ? "gz" : "tar", mode);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputc(mode, f);
	fwrite(buf, 1, used, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	static const struct { const char *name; const struct ent *e; } sets[] = {
		{ "basic", S_BASIC }, { "whiteout", S_WHITEOUT }, { "xattr", S_XATTR }, { "escape", S_ESCAPE },
	};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		for (int gz = 0; gz < 2; gz++)
			for (int mode = 0; mode < 2; mode++)
				put(argv[1], sets[i].name, gz, mode, sets[i].e);
	return 0;
}
