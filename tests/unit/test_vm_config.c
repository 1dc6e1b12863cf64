/* The VM configuration validator (src/vmm/config.c): what the CLI, a config file and the API
 * feed. Good specs parse to the right fields; bad and hostile ones are refused with a usage
 * error (CAP_EXIT_USAGE) whose message names the value, never a command-line flag, and leave
 * the configuration as it was. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "../../src/vmm/config.h"

static cap_err err;

/* fn(c, s) must fail as a usage error with a message containing want (and no "--"). */
#define REFUSE(fn, c, s, want)                                                                  \
	do {                                                                                    \
		cap_err_clear(&err);                                                            \
		CHECK(fn(c, s, &err) < 0);                                                      \
		CHECK_EQ(err.exit_code, CAP_EXIT_USAGE);                                        \
		CHECK(strstr(err.msg, want) != NULL);                                           \
		CHECK(strstr(err.msg, "--") == NULL);                                           \
		if (!strstr(err.msg, want))                                                     \
			printf("# '%.40s': got '%.100s', want '%s'\n", s, err.msg, want);              \
	} while (0)

static void test_memory_units(void)
{
	static const struct { const char *s; uint64_t mib; } good[] = {
		{ "64", 64 }, { "64M", 64 }, { "64m", 64 }, { "64MiB", 64 }, { "64MB", 64 }, { "64mi", 64 },
		{ "2G", 2048 }, { "2g", 2048 }, { "2GiB", 2048 }, { "1T", 1 << 20 }, { "65536K", 64 },
		{ "65536KiB", 64 }, { "16", 16 }, { "0", 0 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t mib = 1;
		cap_err_clear(&err);
		CHECK_EQ(vm_parse_memory_mib(good[i].s, &mib, &err), 0);
		CHECK_EQ(mib, good[i].mib);
		if (mib != good[i].mib)
			printf("# %s -> %llu\n", good[i].s, (unsigned long long)mib);
	}
	struct vm_config c;
	vm_config_init(&c);
	REFUSE(vm_config_set_memory, &c, "", "not a size");
	REFUSE(vm_config_set_memory, &c, "-1", "not a size");
	REFUSE(vm_config_set_memory, &c, "+64", "not a size");
	REFUSE(vm_config_set_memory, &c, " 64", "not a size");
	REFUSE(vm_config_set_memory, &c, "0x40", "unknown unit 'x40'");
	REFUSE(vm_config_set_memory, &c, "64 ", "unknown unit");
	REFUSE(vm_config_set_memory, &c, "64Q", "unknown unit 'Q'");
	REFUSE(vm_config_set_memory, &c, "64MiBs", "unknown unit");
	REFUSE(vm_config_set_memory, &c, "1.5G", "unknown unit '.5G'");
	REFUSE(vm_config_set_memory, &c, "1e3", "unknown unit");
	REFUSE(vm_config_set_memory, &c, "1536K", "not a whole number of MiB");
	REFUSE(vm_config_set_memory, &c, "99999999999999999999", "too large");
	REFUSE(vm_config_set_memory, &c, "18446744073709551615", "too large");
	REFUSE(vm_config_set_memory, &c, "8796093022208", "too large");	/* 2^43 MiB: bytes overflow */
	REFUSE(vm_config_set_memory, &c, "8589934592G", "too large");	/* 2^33 G */
	REFUSE(vm_config_set_memory, &c, "17179869184T", "too large");
	CHECK_EQ(c.memory_mib, (uint64_t)VM_DEFAULT_MEMORY_MIB); /* unchanged by every refusal */
	/* The minimum is the validator's. */
	CHECK_EQ(vm_config_set_memory(&c, "8M", &err), 0);
	cap_err_clear(&err);
	CHECK(vm_config_validate(&c, &err) < 0);
	CHECK_STR(err.msg, "memory 8 MiB: below the minimum of 16 MiB");
	CHECK_EQ(err.exit_code, CAP_EXIT_USAGE);
	vm_config_free(&c);
}

static void test_cpus(void)
{
	struct vm_config c;
	vm_config_init(&c);
	CHECK_EQ(vm_config_set_cpus(&c, "4", &err), 0);
	CHECK_EQ(c.ncpus, 4);
	REFUSE(vm_config_set_cpus, &c, "0", "cpus 0: a VM needs at least one vCPU");
	REFUSE(vm_config_set_cpus, &c, "-1", "not a number");
	REFUSE(vm_config_set_cpus, &c, "2x", "not a number");
	REFUSE(vm_config_set_cpus, &c, "", "not a number");
	REFUSE(vm_config_set_cpus, &c, "2147483648", "too large");
	CHECK_EQ(c.ncpus, 4);
	vm_config_free(&c);
}

static void test_disk(void)
{
	struct vm_config c;
	vm_config_init(&c);
	CHECK_EQ(vm_config_add_disk(&c, "/x.img", &err), 0);
	CHECK_EQ(vm_config_add_disk(&c, "/y.img,ro,id=second", &err), 0);
	CHECK_EQ(vm_config_add_disk(&c, "/z with space.img,ro,rw", &err), 0);
	CHECK_EQ(c.ndisks, 3);
	CHECK_STR(c.disks[0].path, "/x.img");
	CHECK(!c.disks[0].readonly && c.disks[0].id == NULL);
	CHECK_STR(c.disks[1].path, "/y.img");
	CHECK(c.disks[1].readonly);
	CHECK_STR(c.disks[1].id, "second");
	CHECK_STR(c.disks[2].path, "/z with space.img");
	CHECK(!c.disks[2].readonly);
	/* ",ro" is an empty path, not a disk called "ro". */
	REFUSE(vm_config_add_disk, &c, ",ro", "disk ',ro': the path is empty");
	REFUSE(vm_config_add_disk, &c, "", "the path is empty");
	REFUSE(vm_config_add_disk, &c, ",", "the path is empty");
	REFUSE(vm_config_add_disk, &c, "/a,ro,", "empty option");
	REFUSE(vm_config_add_disk, &c, "/a,,ro", "empty option");
	REFUSE(vm_config_add_disk, &c, "/a,readonly", "unknown option 'readonly'");
	REFUSE(vm_config_add_disk, &c, "/a,id=", "id must be 1 to 20 bytes");
	REFUSE(vm_config_add_disk, &c, "/a,id=123456789012345678901", "id must be 1 to 20 bytes");
	REFUSE(vm_config_add_disk, &c, "/a,id=x,id=y", "id given twice");
	REFUSE(vm_config_add_disk, &c, "/a,ro,ro,ro,ro,ro,ro,ro,ro", "too many options");
	CHECK_EQ(c.ndisks, 3);
	while (c.ndisks < VM_MAX_DISKS)
		CHECK_EQ(vm_config_add_disk(&c, "/more", &err), 0);
	REFUSE(vm_config_add_disk, &c, "/one-too-many", "at most 16 disks");
	vm_config_free(&c);
}

static void test_root_disk(void)
{
	struct vm_config c;
	vm_config_init(&c);
	CHECK_EQ(vm_config_add_disk(&c, "/data.img", &err), 0);
	CHECK_EQ(vm_config_set_root_disk(&c, "/root.img", &err), 0);
	CHECK(c.root_disk);
	CHECK_EQ(c.ndisks, 2);
	CHECK_STR(c.disks[0].path, "/root.img");	/* the guest's /dev/vda */
	CHECK_STR(c.disks[1].path, "/data.img");
	REFUSE(vm_config_set_root_disk, &c, "/again.img", "a VM has one root disk");
	vm_config_free(&c);
	vm_config_init(&c);
	REFUSE(vm_config_set_root_disk, &c, "", "the path is empty");
	vm_config_free(&c);
}

static void test_net(void)
{
	struct vm_config c;
	vm_config_init(&c);
	CHECK_EQ(vm_config_add_net(&c, "tap=tap0", &err), 0);
	CHECK_EQ(vm_config_add_net(&c, "mac=52:54:00:12:34:5a,tap=tap1", &err), 0);
	CHECK_EQ(c.nnets, 2);
	CHECK_STR(c.nets[0].tap, "tap0");
	CHECK(!c.nets[0].has_mac);
	CHECK_STR(c.nets[1].tap, "tap1");
	CHECK(c.nets[1].has_mac && c.nets[1].mac[0] == 0x52 && c.nets[1].mac[5] == 0x5a);
	REFUSE(vm_config_add_net, &c, "", "unknown option ''");
	REFUSE(vm_config_add_net, &c, "mac=52:54:00:12:34:56", "tap=NAME is required");
	REFUSE(vm_config_add_net, &c, "tap=", "given twice or empty");
	REFUSE(vm_config_add_net, &c, "tap=a,tap=b", "given twice or empty");
	REFUSE(vm_config_add_net, &c, "tap=a,mac=52:54:00:12:34", "bad MAC address");
	REFUSE(vm_config_add_net, &c, "tap=a,mac=52:54:00:12:34:567", "bad MAC address");
	REFUSE(vm_config_add_net, &c, "tap=a,mac=+2:54:00:12:34:56", "bad MAC address");
	REFUSE(vm_config_add_net, &c, "tap=a,mac= 2:54:00:12:34:56", "bad MAC address");
	REFUSE(vm_config_add_net, &c, "tap=a,mac=5:54:00:12:34:56", "bad MAC address");
	REFUSE(vm_config_add_net, &c, "tap=a,mac=zz:54:00:12:34:56", "bad MAC address");
	REFUSE(vm_config_add_net, &c, "tap=a,mac=01:00:5e:00:00:01", "multicast");
	REFUSE(vm_config_add_net, &c, "tap=a,vhost=on", "unknown option 'vhost=on'");
	CHECK_EQ(c.nnets, 2);
	vm_config_free(&c);
}

static void test_vsock(void)
{
	struct vm_config c;
	vm_config_init(&c);
	REFUSE(vm_config_set_vsock, &c, "cid=2,uds=/v", "vsock cid 2: must be 3 or more (0-2 are reserved)");
	REFUSE(vm_config_set_vsock, &c, "cid=4294967295,uds=/v", "must be 3 or more");
	REFUSE(vm_config_set_vsock, &c, "cid=4294967296,uds=/v", "too large");
	REFUSE(vm_config_set_vsock, &c, "cid=-3,uds=/v", "not a number");
	REFUSE(vm_config_set_vsock, &c, "cid=0x10,uds=/v", "not a number");
	REFUSE(vm_config_set_vsock, &c, "cid=3", "uds=PATH is required");
	REFUSE(vm_config_set_vsock, &c, "uds=/v", "cid=N is required");
	REFUSE(vm_config_set_vsock, &c, "cid=3,uds=", "given twice or empty");
	REFUSE(vm_config_set_vsock, &c, "cid=3,cid=4,uds=/v", "given twice or empty");
	REFUSE(vm_config_set_vsock, &c, "cid=3,uds=/v,port=1", "unknown option 'port=1'");
	CHECK(c.vsock_uds == NULL);
	CHECK_EQ(vm_config_set_vsock(&c, "uds=/tmp/v.sock,cid=3", &err), 0);
	CHECK_STR(c.vsock_uds, "/tmp/v.sock");
	CHECK_EQ(c.vsock_cid, 3u);
	REFUSE(vm_config_set_vsock, &c, "cid=4,uds=/w", "a VM has one vsock device");
	vm_config_free(&c);
}

static void test_console(void)
{
	struct vm_config c;
	vm_config_init(&c);
	CHECK_EQ(vm_config_set_console(&c, "none", &err), 0);
	CHECK_EQ(c.console, VM_CONSOLE_NONE);
	CHECK_EQ(vm_config_set_console(&c, "file:/tmp/out", &err), 0);
	CHECK_EQ(c.console, VM_CONSOLE_FILE);
	CHECK_STR(c.console_path, "/tmp/out");
	REFUSE(vm_config_set_console, &c, "file:", "want stdio, none or file:PATH");
	REFUSE(vm_config_set_console, &c, "tty", "want stdio, none or file:PATH");
	vm_config_free(&c);
}

static void test_validate_and_copy(void)
{
	struct vm_config c, d;
	vm_config_init(&c);
	CHECK_EQ(vm_config_validate(&c, &err), 0);
	for (int i = 0; i < 16; i++)
		CHECK_EQ(vm_config_add_disk(&c, "/d", &err), 0);
	c.rng = true;
	cap_err_clear(&err);
	CHECK(vm_config_validate(&c, &err) < 0);
	CHECK_STR(err.msg, "17 virtio devices: at most 16 (one interrupt line each)");
	c.rng = false;
	c.ncpus = 0;
	cap_err_clear(&err);
	CHECK(vm_config_validate(&c, &err) < 0);
	CHECK_STR(err.msg, "cpus 0: a VM needs at least one vCPU");
	c.ncpus = 1;
	CHECK_EQ(vm_config_set_string(&c.kernel, "", &err), 0);
	cap_err_clear(&err);
	CHECK(vm_config_validate(&c, &err) < 0);
	CHECK_STR(err.msg, "kernel: the path is empty");
	CHECK_EQ(vm_config_set_string(&c.kernel, "/boot/vmlinuz", &err), 0);
	CHECK_EQ(vm_config_set_string(&c.cmdline, "console=ttyS0 quiet", &err), 0);
	CHECK_EQ(vm_config_set_vsock(&c, "cid=9,uds=/s", &err), 0);
	/* A deep copy: nothing shared, so freeing the original leaves the copy whole. */
	CHECK_EQ(vm_config_copy(&d, &c), 0);
	CHECK(d.kernel != c.kernel && d.disks[3].path != c.disks[3].path && d.vsock_uds != c.vsock_uds);
	vm_config_free(&c);
	CHECK_STR(d.kernel, "/boot/vmlinuz");
	CHECK_STR(d.cmdline, "console=ttyS0 quiet");
	CHECK_STR(d.disks[15].path, "/d");
	CHECK_STR(d.vsock_uds, "/s");
	CHECK_EQ(d.vsock_cid, 9u);
	CHECK_EQ(d.ndisks, 16);
	vm_config_free(&d);
}

/* Long and binary strings: no crash, a clean refusal or a faithful copy. */
static void test_hostile_strings(void)
{
	struct vm_config c;
	size_t n = 1 << 16;
	char *s = malloc(n + 1);
	memset(s, ',', n);
	s[n] = 0;
	vm_config_init(&c);
	REFUSE(vm_config_add_disk, &c, s, "too many options");
	REFUSE(vm_config_add_net, &c, s, "too many options");
	REFUSE(vm_config_set_vsock, &c, s, "too many options");
	memset(s, 'a', n);
	REFUSE(vm_config_set_memory, &c, s, "not a size");
	memset(s, '9', n);
	REFUSE(vm_config_set_memory, &c, s, "too large");
	REFUSE(vm_config_set_cpus, &c, s, "too large");
	memset(s, '/', n);
	CHECK_EQ(vm_config_add_disk(&c, s, &err), 0); /* a long path is the open()'s problem */
	CHECK_EQ(strlen(c.disks[0].path), n);
	const char bin[] = "/x\x01\x7f\xff,id=\xfe\xfe";
	CHECK_EQ(vm_config_add_disk(&c, bin, &err), 0);
	CHECK_STR(c.disks[1].id, "\xfe\xfe");
	REFUSE(vm_config_add_net, &c, "tap=a,mac=52:54:00:12:34:5\xff", "bad MAC address");
	free(s);
	vm_config_free(&c);
}

int main(void)
{
	RUN(test_memory_units);
	RUN(test_cpus);
	RUN(test_disk);
	RUN(test_root_disk);
	RUN(test_net);
	RUN(test_vsock);
	RUN(test_console);
	RUN(test_validate_and_copy);
	RUN(test_hostile_strings);
	UNIT_EXIT();
}
