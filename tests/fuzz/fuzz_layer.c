// fuzz-sources: src/image/layer.c src/image/fsutil.c src/image/digest.c src/image/progress.c src/lib/error.c src/lib/log.c
// fuzz-seeds: tests/fuzz/seeds_layer.c
/* libFuzzer target: the layer extractor (src/image/layer.c) unpacking arbitrary bytes as a
 * tar (any compression libarchive reads) into a fresh directory. The first byte picks the mode
 * (applied whiteouts or overlay markers). After each input nothing may exist beside the root:
 * an entry written there climbed out. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/image/fsutil.h"
#include "../../src/image/layer.h"

static char jail[64];

static void cleanup(void)
{
	remove_tree(jail);
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *de;
	if (!d)
		abort();
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!*jail) {
		/* tmpfs when there is one: the extractor's file system calls are the cost */
		snprintf(jail, sizeof(jail), "%s/capsule-fuzz-layer-%d", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
			 (int)getpid());
		if (mkdir(jail, 0700) < 0)
			abort();
		atexit(cleanup);
	}
	if (size < 1)
		return 0;
	char root[128];
	snprintf(root, sizeof(root), "%s/root", jail);
	if (mkdir(root, 0755) < 0)
		abort();
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	cap_err err = { 0 };
	layer_extract_mem(data + 1, size - 1, fd, data[0] & 1 ? LAYER_OVERLAY : LAYER_APPLY, NULL, &err);
	close(fd);
	/* only "root" may be in the jail */
	if (entries(jail) != 1) {
		fprintf(stderr, "an entry escaped the root into %s\n", jail);
		abort();
	}
	if (remove_tree(root) < 0)
		abort();
	return 0;
}
