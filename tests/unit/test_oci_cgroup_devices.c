/* The v2 device rules program: applying rules again (update) replaces the attached program
 * instead of adding one more (BPF_F_ALLOW_MULTI piled them up). Runs on a scratch cgroup in
 * the v2 hierarchy (pure or hybrid "unified"); needs root. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

#include "unit.h"
#include "../../src/oci/cgroup-devices.h"

static char dir[256];

static int attached(void)
{
	__u32 ids[64];
	union bpf_attr a;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (unsigned)fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (unsigned long)ids;
	a.query.prog_cnt = 64;
	int r = (int)syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a));
	close(fd);
	return r < 0 ? -1 : (int)a.query.prog_cnt;
}

static void update_replaces_program(void)
{
	struct oci_dev_rule rules[2] = {
		{ .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
		{ .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },
	};
	struct oci_resources res;
	cap_err err = { 0 };
	oci_resources_init(&res);
	res.devrules = rules;
	res.n_devrules = 2;
	CHECK_EQ(cg_v2_devices(dir, &res, &err), 0);
	CHECK_EQ(attached(), 1);
	CHECK_EQ(cg_v2_devices(dir, &res, &err), 0);
	CHECK_EQ(cg_v2_devices(dir, &res, &err), 0);
	CHECK_EQ(attached(), 1);
	res.devrules = NULL;
	res.n_devrules = 0;
}

int main(void)
{
	const char *base = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0 ? "/sys/fs/cgroup/unified"
			   : access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "/sys/fs/cgroup" : NULL;
	if (!base || geteuid() != 0) {
		SKIP(update_replaces_program, base ? "needs root" : "no cgroup v2 hierarchy");
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/capsule-unit-devices-%d", base, getpid());
	if (mkdir(dir, 0755) < 0) {
		SKIP(update_replaces_program, "cannot create a scratch cgroup");
		return 0;
	}
	RUN(update_replaces_program);
	rmdir(dir);
	UNIT_EXIT();
}
