/* Seeds for fuzz_oci_resources: resources objects as runc's and podman's configs carry them. */
#include <stdio.h>

static const char *const seeds[] = {
	"{\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"lo\",\"priority\":3},{\"name\":\"eth0\",\"priority\":1}]}}",
	"{\"memory\":{\"limit\":536870912,\"reservation\":1,\"swap\":-1,\"kernel\":16777216,\"kernelTCP\":16777216,\"swappiness\":60,\"disableOOMKiller\":true}}",
	"{\"cpu\":{\"shares\":1024,\"quota\":100000,\"period\":100000,\"cpus\":\"0-1\",\"mems\":\"0\"},\"pids\":{\"limit\":100}}",
	"{\"blockIO\":{\"weight\":500,\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}]},\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":0}]}",
	"{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}],\"unified\":{\"memory.high\":\"1G\"}}",
};

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/seed-%zu", argv[1], i);
		FILE *f = fopen(p, "w");
		if (!f || fputs(seeds[i], f) < 0 || fclose(f) != 0)
			return 1;
	}
	return 0;
}
