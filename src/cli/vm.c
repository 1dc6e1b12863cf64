/* capsule vm <command>: run micro-VMs. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../vmm/boot/boot.h"
#include "../vmm/run.h"
#include "../vmm/vm.h"
#include "commands.h"

static void vm_usage(FILE *f)
{
	fprintf(f,
		"Usage: capsule vm <command> [options]\n"
		"\n"
		"Commands:\n"
		"  run              boot a kernel in a new micro-VM and run it until it powers off\n"
		"  extract-kernel   write the ELF vmlinux inside a bzImage to a file\n"
		"\n"
		"Run 'capsule vm <command> --help' for a command's options.\n");
}

static void run_usage(FILE *f)
{
	fprintf(f,
		"Usage: capsule vm run --kernel PATH [options]\n"
		"\n"
		"Boots PATH (an ELF vmlinux, a bzImage or a Capsule test guest) and runs it until the guest\n"
		"powers off, reboots or fails.\n"
		"\n"
		"Options:\n"
		"  --kernel PATH            kernel image (required)\n"
		"  --initrd PATH            initial ramdisk\n"
		"  --cmdline STR            kernel command line (default: \"console=ttyS0\")\n"
		"  --cpus N                 vCPUs (default 1)\n"
		"  --memory MiB             guest RAM in MiB (default 256, minimum %d)\n"
		"  --console stdio|none|file:PATH\n"
		"                           where the serial console goes (default stdio; on a terminal it is\n"
		"                           interactive: Ctrl-A x quits)\n"
		"  --boot-timer             print boot and start times when the guest writes 123 to 0xd0000000\n"
		"  --bzimage-decompress host|guest\n"
		"                           decompress a bzImage's payload on the host (default) or let the\n"
		"                           kernel's own decompressor run in the guest\n"
		"  --pvh                    enter an ELF kernel through its PVH entry point\n"
		"  --disk PATH[,ro][,id=NAME]   a virtio-blk disk (repeatable)\n"
		"  --root-disk PATH         a virtio-blk disk that is also the root (adds root=/dev/vda)\n"
		"  --net tap=NAME[,mac=MAC] a virtio-net device on a TAP interface (repeatable)\n"
		"  --vsock cid=N,uds=PATH   a virtio-vsock device bridged to Unix sockets at PATH\n"
		"  --rng                    a virtio-rng device\n"
		"  --balloon                a virtio-balloon device\n"
		"  --debug                  verbose diagnostics on stderr\n"
		"\n"
		"Exit status: 0 guest powered off or rebooted; 1 error; 2 bad command line; 3 guest kernel\n"
		"panicked; 4 a vCPU stopped on a fault; 128+N stopped by signal N; a Capsule test guest's own\n"
		"status when it exits through the test port.\n",
		VM_MIN_MEMORY_MIB);
}

static int parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out, cap_err *err)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s %s: not a number", opt, s);
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s %s: not a number", opt, s);
	if (v > max)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s %s: too large", opt, s);
	*out = v;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

/* "PATH[,ro][,id=NAME]" */
static int parse_disk(struct vm_config *cfg, char *spec, cap_err *err)
{
	if (cfg->ndisks >= VM_MAX_DISKS)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--disk: at most %d disks", VM_MAX_DISKS);
	struct vm_disk_config *d = &cfg->disks[cfg->ndisks];
	char *save = NULL, *tok = strtok_r(spec, ",", &save);
	if (!tok || !*tok)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--disk: missing path");
	d->path = tok;
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strcmp(tok, "ro"))
			d->readonly = true;
		else if (!strcmp(tok, "rw"))
			d->readonly = false;
		else if (!strncmp(tok, "id=", 3) && tok[3])
			d->id = tok + 3;
		else
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--disk %s: unknown option '%s'", d->path, tok);
	}
	cfg->ndisks++;
	return 0;
}

/* "tap=NAME[,mac=MAC]" */
static int parse_net(struct vm_config *cfg, char *spec, cap_err *err)
{
	if (cfg->nnets >= VM_MAX_NETS)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--net: at most %d interfaces", VM_MAX_NETS);
	struct vm_net_config *n = &cfg->nets[cfg->nnets];
	char *save = NULL;
	for (char *tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "tap=", 4) && tok[4]) {
			n->tap = tok + 4;
		} else if (!strncmp(tok, "mac=", 4)) {
			if (parse_mac(tok + 4, n->mac) < 0)
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--net: bad MAC address '%s'", tok + 4);
			n->has_mac = true;
		} else {
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--net: unknown option '%s'", tok);
		}
	}
	if (!n->tap)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--net: tap=NAME is required");
	cfg->nnets++;
	return 0;
}

/* "cid=N,uds=PATH" */
static int parse_vsock(struct vm_config *cfg, char *spec, cap_err *err)
{
	char *save = NULL;
	uint64_t cid = 0;
	for (char *tok = strtok_r(spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "cid=", 4)) {
			if (parse_u64("--vsock cid", tok + 4, UINT32_MAX, &cid, err) < 0)
				return -EINVAL;
		} else if (!strncmp(tok, "uds=", 4) && tok[4]) {
			cfg->vsock_uds = tok + 4;
		} else {
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--vsock: unknown option '%s'", tok);
		}
	}
	if (!cfg->vsock_uds)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--vsock: uds=PATH is required");
	if (cid < 3)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--vsock: cid must be 3 or more (0-2 are reserved)");
	cfg->vsock_cid = (uint32_t)cid;
	return 0;
}

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_CPUS, OPT_MEMORY, OPT_CONSOLE, OPT_BOOT_TIMER,
	OPT_BZ_DECOMP, OPT_PVH, OPT_DISK, OPT_ROOT_DISK, OPT_NET, OPT_VSOCK, OPT_RNG, OPT_BALLOON, OPT_DEBUG,
	OPT_HELP,
};

static int cmd_vm_run(int argc, char **argv, cap_err *err)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "console", required_argument, NULL, OPT_CONSOLE },
		{ "boot-timer", no_argument, NULL, OPT_BOOT_TIMER },
		{ "bzimage-decompress", required_argument, NULL, OPT_BZ_DECOMP },
		{ "pvh", no_argument, NULL, OPT_PVH },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "root-disk", required_argument, NULL, OPT_ROOT_DISK },
		{ "net", required_argument, NULL, OPT_NET },
		{ "vsock", required_argument, NULL, OPT_VSOCK },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "balloon", no_argument, NULL, OPT_BALLOON },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 },
	};
	struct vm_config cfg = { .ncpus = 1, .memory_mib = 256, .console = VM_CONSOLE_STDIO };
	char *cmdline = NULL;
	bool root_disk = false;
	uint64_t v;
	int c, r;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL: cfg.kernel = optarg; break;
		case OPT_INITRD: cfg.initrd = optarg; break;
		case OPT_CMDLINE: cfg.cmdline = optarg; break;
		case OPT_CPUS:
			if (parse_u64("--cpus", optarg, INT_MAX, &v, err) < 0)
				return -1;
			if (v == 0)
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--cpus 0: a VM needs at least one vCPU");
			cfg.ncpus = (int)v;
			break;
		case OPT_MEMORY:
			if (parse_u64("--memory", optarg, UINT64_MAX >> 21, &v, err) < 0)
				return -1;
			cfg.memory_mib = v;
			break;
		case OPT_CONSOLE:
			if (!strcmp(optarg, "stdio"))
				cfg.console = VM_CONSOLE_STDIO;
			else if (!strcmp(optarg, "none"))
				cfg.console = VM_CONSOLE_NONE;
			else if (!strncmp(optarg, "file:", 5) && optarg[5]) {
				cfg.console = VM_CONSOLE_FILE;
				cfg.console_path = optarg + 5;
			} else
				return cap_errf_code(err, CAP_EXIT_USAGE, 0,
						     "--console %s: want stdio, none or file:PATH", optarg);
			break;
		case OPT_BOOT_TIMER: cfg.boot_timer = true; break;
		case OPT_BZ_DECOMP:
			if (!strcmp(optarg, "guest"))
				cfg.guest_decompress = true;
			else if (strcmp(optarg, "host"))
				return cap_errf_code(err, CAP_EXIT_USAGE, 0,
						     "--bzimage-decompress %s: want host or guest", optarg);
			break;
		case OPT_PVH: cfg.pvh = true; break;
		case OPT_DISK:
			if (parse_disk(&cfg, optarg, err) < 0)
				return -1;
			break;
		case OPT_ROOT_DISK:
			if (root_disk)
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--root-disk given twice");
			/* The root disk is the first virtio-blk device, so the guest sees it as /dev/vda. */
			if (cfg.ndisks >= VM_MAX_DISKS)
				return cap_errf_code(err, CAP_EXIT_USAGE, 0, "--disk: at most %d disks", VM_MAX_DISKS);
			memmove(&cfg.disks[1], &cfg.disks[0], (size_t)cfg.ndisks * sizeof(cfg.disks[0]));
			cfg.disks[0] = (struct vm_disk_config){ .path = optarg };
			cfg.ndisks++;
			root_disk = true;
			break;
		case OPT_NET:
			if (parse_net(&cfg, optarg, err) < 0)
				return -1;
			break;
		case OPT_VSOCK:
			if (parse_vsock(&cfg, optarg, err) < 0)
				return -1;
			break;
		case OPT_RNG: cfg.rng = true; break;
		case OPT_BALLOON: cfg.balloon = true; break;
		case OPT_DEBUG: cap_log_set_level(CAP_LOG_DEBUG); break;
		case OPT_HELP: run_usage(stdout); return 0;
		default:
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm run: unknown or incomplete option '%s' (try --help)",
					     argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm run: unexpected argument '%s'", argv[optind]);
	if (!cfg.kernel)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm run: --kernel PATH is required");
	int nvirtio = cfg.ndisks + cfg.nnets + (cfg.vsock_uds ? 1 : 0) + cfg.rng + cfg.balloon;
	if (nvirtio > VM_MAX_VIRTIO_DEVICES)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm run: %d virtio devices, at most %d (one interrupt line each)",
				     nvirtio, VM_MAX_VIRTIO_DEVICES);
	if (root_disk) {
		const char *base = cfg.cmdline ? cfg.cmdline : "console=ttyS0";
		if (asprintf(&cmdline, "%s root=/dev/vda rw", base) < 0)
			return cap_errf(err, ENOMEM, "kernel command line");
		cfg.cmdline = cmdline;
	}
	r = vmm_run(&cfg, err);
	free(cmdline);
	return r;
}

static int cmd_vm_extract_kernel(int argc, char **argv, cap_err *err)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: capsule vm extract-kernel BZIMAGE OUT\n\n"
		       "Decompresses the kernel payload of BZIMAGE (gzip, xz, lzma, lz4, zstd or bzip2) and writes\n"
		       "the ELF vmlinux inside it to OUT.\n");
		return 0;
	}
	if (argc != 3)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm extract-kernel: want BZIMAGE OUT (try --help)");
	uint8_t *elf = NULL;
	size_t len = 0;
	int r = bzimage_extract_elf(argv[1], &elf, &len, err);
	if (r < 0)
		return -1;
	errno = 0;
	FILE *f = fopen(argv[2], "wb");
	if (!f) {
		free(elf);
		return cap_errf(err, errno, "%s", argv[2]);
	}
	size_t n = fwrite(elf, 1, len, f);
	int ce = fclose(f);
	free(elf);
	if (n != len || ce != 0) {
		unlink(argv[2]);
		return cap_errf(err, errno ? errno : EIO, "%s: write failed", argv[2]);
	}
	return 0;
}

int cmd_vm(int argc, char **argv, cap_err *err)
{
	if (argc < 2) {
		vm_usage(stderr);
		return CAP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		vm_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_vm_run(argc - 1, argv + 1, err);
	if (!strcmp(argv[1], "extract-kernel"))
		return cmd_vm_extract_kernel(argc - 1, argv + 1, err);
	return cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm: unknown command '%s' (try: capsule vm --help)", argv[1]);
}
