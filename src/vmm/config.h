/* A micro-VM's configuration and its one validator: the CLI, a config file and the HTTP API
 * all fill a struct vm_config through these functions, so every source gets the same checks
 * and the same messages. Messages name the thing and the value ("memory 8 MiB: below the
 * minimum of 16 MiB", "disk ',ro': the path is empty"), never a command-line flag; a caller
 * may prefix its own context. Usage errors carry CAP_EXIT_USAGE.
 *
 * A vm_config owns its strings (vm_config_free releases them); vm_config_copy makes a deep
 * copy, which is what a VM keeps. */
#ifndef CAPSULE_VMM_CONFIG_H
#define CAPSULE_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/error.h"
#include "ratelimit.h"
#include "sandbox/seccomp.h"

#define VM_MAX_DISKS 16
#define VM_MAX_NETS 8
#define VM_MIN_MEMORY_MIB 16
#define VM_DEFAULT_MEMORY_MIB 256
/* GSIs 5-23 less 8 (RTC), 9 (ACPI SCI) and 12 (PS/2 mouse): one per virtio device. */
#define VM_MAX_VIRTIO_DEVICES 16
#define VM_DEFAULT_CMDLINE "console=ttyS0"

struct vm_disk_config {
	char *path;
	bool readonly;
	char *id;       /* serial/ID string returned to the guest (VIRTIO_BLK_T_GET_ID); NULL: none */
	struct rl_config rl;    /* bw=, iops= (and their -burst): none when zero */
};

struct vm_net_config {
	char *tap;      /* TAP device name */
	uint8_t mac[6];
	bool has_mac;
	struct rl_config rx, tx;        /* rx-bw=, rx-ops=, tx-bw=, tx-ops= (and -burst) */
	char *id;       /* the API's iface_id; NULL: none given */
};

enum vm_console { VM_CONSOLE_STDIO, VM_CONSOLE_NONE, VM_CONSOLE_FILE };

struct vm_config {
	char *kernel;
	char *initrd;
	char *cmdline;                  /* the user's (NULL: VM_DEFAULT_CMDLINE); the VMM appends its own parts */
	int ncpus;
	uint64_t memory_mib;
	enum vm_console console;
	char *console_path;             /* VM_CONSOLE_FILE */
	bool boot_timer;
	bool guest_decompress;          /* bzImage: run the kernel's own decompressor */
	bool pvh;                       /* prefer the PVH entry when the ELF has one */
	/* virtio devices */
	int ndisks;
	struct vm_disk_config disks[VM_MAX_DISKS];
	bool root_disk;                 /* disks[0] is the root: the kernel gets root=/dev/vda rw */
	int nnets;
	struct vm_net_config nets[VM_MAX_NETS];
	char *vsock_uds;                /* host Unix socket path for virtio-vsock; NULL: none */
	uint32_t vsock_cid;
	bool rng;
	bool balloon;
	/* sandbox (docs/security.md) */
	enum vmm_seccomp_mode seccomp;  /* per-thread filters; VMM_SECCOMP_DEFAULT (0) unless asked */
};

/* Defaults: 1 vCPU, VM_DEFAULT_MEMORY_MIB, console on stdio, no devices. */
void vm_config_init(struct vm_config *c);
void vm_config_free(struct vm_config *c);
/* Deep copy into dst (initialised here); 0 or -ENOMEM (dst is then empty). */
int vm_config_copy(struct vm_config *dst, const struct vm_config *src);

/* Setters from strings, as a user writes them. Each checks its value and fills err. */
int vm_config_set_string(char **field, const char *value, cap_err *err);   /* strdup, replacing */
int vm_config_set_cpus(struct vm_config *c, const char *s, cap_err *err);  /* 1.. */
/* "N" (MiB), or N with a unit: K/KiB/KB, M/MiB/MB, G/GiB/GB, T/TiB/TB (powers of 1024, any case),
 * a whole number of MiB. */
int vm_config_set_memory(struct vm_config *c, const char *s, cap_err *err);
int vm_parse_memory_mib(const char *s, uint64_t *mib, cap_err *err);
int vm_config_set_console(struct vm_config *c, const char *s, cap_err *err); /* stdio|none|file:PATH */
int vm_config_add_disk(struct vm_config *c, const char *spec, cap_err *err); /* PATH[,ro|,rw][,id=NAME] */
/* The root disk becomes disks[0] (the guest's /dev/vda), once. */
int vm_config_set_root_disk(struct vm_config *c, const char *path, cap_err *err);
int vm_config_add_net(struct vm_config *c, const char *spec, cap_err *err); /* tap=NAME[,mac=MAC] */
int vm_config_set_vsock(struct vm_config *c, const char *spec, cap_err *err); /* cid=N,uds=PATH */

/* The whole configuration: memory, vCPUs, device counts, console, paths present and sane.
 * Host limits (RAM, KVM's vCPU limit) are checked when the VM is created. */
int vm_config_validate(const struct vm_config *c, cap_err *err);
/* The id the API knows disk / interface i by: the one given (drive_id, iface_id, --disk id=),
 * else "disk<i>" / "eth<i>" (what GET /vm/config shows); buf holds the made-up one. */
const char *vm_config_disk_id(const struct vm_config *c, int i, char *buf, size_t len);
const char *vm_config_net_id(const struct vm_config *c, int i, char *buf, size_t len);
/* The index of the disk / interface with that API id, or -1. */
int vm_config_find_disk(const struct vm_config *c, const char *id);
int vm_config_find_net(const struct vm_config *c, const char *id);
/* Number of virtio devices c asks for. */
int vm_config_virtio_count(const struct vm_config *c);

#endif
