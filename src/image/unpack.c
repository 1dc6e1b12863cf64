#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "layer.h"
#include "unpack.h"

static bool dir_empty(int fd)
{
	DIR *dir = dir_open_at(fd);
	if (!dir)
		return false;
	struct dirent *de;
	bool empty = true;
	while ((de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	closedir(dir);
	return empty;
}

int image_unpack(struct store *s, const char *ref, const char *dest, cap_err *err)
{
	json_t *images = store_images_load(s, err), *img = images ? store_images_find(images, ref, err) : NULL;
	struct store_image si;
	int r, fd = -1;
	bool made = false;
	if (!img || store_image_load(s, json_string_value(json_object_get(img, "id")), &si, err) < 0) {
		json_decref(images);
		return -EINVAL;
	}
	if (mkdir(dest, 0755) == 0)
		made = true;
	else if (errno != EEXIST) {
		r = cap_errf(err, errno, "unpack destination %s", dest);
		goto out;
	}
	fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = cap_errf(err, errno, "unpack destination %s", dest);
		goto out;
	}
	if (!made && !dir_empty(fd)) {
		r = cap_errf(err, ENOTEMPTY, "unpack destination %s", dest);
		goto out;
	}
	for (size_t i = 0; i < si.n_layers; i++) {
		char p[PATH_MAX];
		store_blob_path(s, si.layers[i], p, sizeof(p));
		char what[DIGEST_STR_LEN + 16];
		snprintf(what, sizeof(what), "layer %s", si.layers[i]);
		if ((r = layer_extract_file(p, what, fd, LAYER_APPLY, NULL, err)) < 0) {
			cap_err_prefix(err, "image %s", ref);
			goto out;
		}
	}
	r = 0;
out:
	if (r < 0 && fd >= 0) {
		if (made) {
			close(fd);
			fd = -1;
			remove_tree(dest);
		} else {
			empty_dir_at(fd);
		}
	}
	if (fd >= 0)
		close(fd);
	store_image_free(&si);
	json_decref(images);
	return r;
}
