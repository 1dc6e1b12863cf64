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
		"  --memory SIZE            guest RAM: MiB, or with a unit (512M, 2G; default 256, minimum %d MiB)\n"
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
		"panicked; 4 a vCPU stopped on a fault; 5 quit from the console (Ctrl-A x); 128+N stopped by\n"
		"signal N; a Capsule test guest's own status when it exits through the test port.\n",
		VM_MIN_MEMORY_MIB);
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
	struct vm_config cfg;
	int c, r = -1;

	vm_config_init(&cfg);
	opterr = 0;
	optind = 1;
	/* Values are checked by the VMM's validator (src/vmm/config.c), whose messages name the value. */
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL: r = vm_config_set_string(&cfg.kernel, optarg, err); break;
		case OPT_INITRD: r = vm_config_set_string(&cfg.initrd, optarg, err); break;
		case OPT_CMDLINE: r = vm_config_set_string(&cfg.cmdline, optarg, err); break;
		case OPT_CPUS: r = vm_config_set_cpus(&cfg, optarg, err); break;
		case OPT_MEMORY: r = vm_config_set_memory(&cfg, optarg, err); break;
		case OPT_CONSOLE: r = vm_config_set_console(&cfg, optarg, err); break;
		case OPT_BOOT_TIMER: cfg.boot_timer = true; r = 0; break;
		case OPT_BZ_DECOMP:
			if (!strcmp(optarg, "guest") || !strcmp(optarg, "host")) {
				cfg.guest_decompress = !strcmp(optarg, "guest");
				r = 0;
			} else {
				r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "--bzimage-decompress %s: want host or guest", optarg);
			}
			break;
		case OPT_PVH: cfg.pvh = true; r = 0; break;
		case OPT_DISK: r = vm_config_add_disk(&cfg, optarg, err); break;
		case OPT_ROOT_DISK: r = vm_config_set_root_disk(&cfg, optarg, err); break;
		case OPT_NET: r = vm_config_add_net(&cfg, optarg, err); break;
		case OPT_VSOCK: r = vm_config_set_vsock(&cfg, optarg, err); break;
		case OPT_RNG: cfg.rng = true; r = 0; break;
		case OPT_BALLOON: cfg.balloon = true; r = 0; break;
		case OPT_DEBUG: cap_log_set_level(CAP_LOG_DEBUG); r = 0; break;
		case OPT_HELP: run_usage(stdout); r = 0; goto out;
		default:
			r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm run: unknown or incomplete option '%s' (try --help)",
					  argv[optind - 1]);
		}
		if (r < 0)
			goto out;
	}
	if (optind < argc)
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm run: unexpected argument '%s'", argv[optind]);
	else if (!cfg.kernel)
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "vm run: --kernel PATH is required");
	else if ((r = vm_config_validate(&cfg, err)) == 0)
		r = vmm_run(&cfg, err);
out:
	vm_config_free(&cfg);
	return r < 0 ? -1 : r;
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
