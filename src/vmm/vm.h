/* The VM object: KVM handles, guest memory, buses, vCPUs, devices, and the lifecycle
 * state machine  created -> running -> stopped. */
#ifndef CAPSULE_VMM_VM_H
#define CAPSULE_VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../lib/error.h"
#include "../lib/evloop.h"
#include "boot/acpi_aml.h"
#include "bus.h"
#include "memory.h"

#define VM_MAX_DISKS 16
#define VM_MAX_NETS 8
#define VM_MIN_MEMORY_MIB 16
/* GSIs 5-23 less 8 (RTC), 9 (ACPI SCI) and 12 (PS/2 mouse): one per virtio device. */
#define VM_MAX_VIRTIO_DEVICES 16

struct vm_disk_config {
	char *path;
	bool readonly;
	char *id;       /* serial/ID string returned to the guest (VIRTIO_BLK_T_GET_ID) */
};

struct vm_net_config {
	char *tap;      /* TAP device name */
	uint8_t mac[6];
	bool has_mac;
};

enum vm_console { VM_CONSOLE_STDIO, VM_CONSOLE_NONE, VM_CONSOLE_FILE };

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;            /* the user's; the VMM appends its own parts */
	int ncpus;
	uint64_t memory_mib;
	enum vm_console console;
	const char *console_path;       /* VM_CONSOLE_FILE */
	bool boot_timer;
	bool guest_decompress;          /* bzImage: run the kernel's own decompressor */
	bool pvh;                       /* prefer the PVH entry when the ELF has one */
	/* virtio devices (issue 3) */
	int ndisks;
	struct vm_disk_config disks[VM_MAX_DISKS];
	int nnets;
	struct vm_net_config nets[VM_MAX_NETS];
	const char *vsock_uds;          /* host Unix socket path for virtio-vsock; NULL: none */
	uint32_t vsock_cid;
	bool rng;
	bool balloon;
};

enum vm_state { VM_CREATED, VM_RUNNING, VM_STOPPED };

/* Why the VM stopped; maps to capsule's exit code. */
enum vm_stop_reason {
	VM_STOP_NONE,
	VM_STOP_POWEROFF,   /* ACPI S5 or test-guest exit 0 */
	VM_STOP_REBOOT,     /* i8042 reset, ACPI reset, triple fault after a reboot request */
	VM_STOP_PANIC,      /* the guest kernel panicked (then rebooted, panic=-1) */
	VM_STOP_FAULT,      /* emulation failure, failed entry, unexpected triple fault */
	VM_STOP_TEST_EXIT,  /* test guest wrote to the test-exit port */
	VM_STOP_SIGNAL,     /* capsule got SIGINT/SIGTERM/SIGHUP */
	VM_STOP_CONSOLE,    /* Ctrl-A x on the console */
};

struct vcpu;
struct serial;

/* A device the VM owns; destroy runs at VM teardown (after vCPUs and the I/O thread stopped). */
struct vm_device {
	const char *name;
	void *opaque;
	void (*destroy)(void *opaque);
};

struct vm {
	int kvm_fd, vm_fd;
	int run_size;                   /* mmap size of struct kvm_run */
	struct guest_mem mem;
	struct bus pio, mmio;
	int ncpus;
	struct vcpu *vcpus;
	struct evloop io;               /* I/O thread: virtio queues, TAP, sockets */
	bool io_started;
	struct serial *serial;
	bool test_guest;
	bool kvm_pvm_host;              /* this host's KVM is kvm_pvm (nested, ring 0 emulated) */

	/* command line fragments the devices add before boot */
	char cmdline_extra[4096];
	/* virtio-mmio windows, described to the guest in the ACPI DSDT (or, when the guest runs
	 * with acpi=off, as virtio_mmio.device= command-line entries) */
	struct acpi_mmio_device virtio_mmio[ACPI_MAX_MMIO_DEVICES];
	int nvirtio_mmio;
	/* allocators for device resources */
	uint64_t next_mmio;
	int next_irq;

	struct vm_device devices[64];
	int ndevices;

	/* lifecycle */
	pthread_mutex_t lock;           /* guards state and stop fields */
	enum vm_state state;
	enum vm_stop_reason stop_reason;
	int test_exit_status;
	int stop_fd;                    /* eventfd the main loop waits on: the VM wants to stop */
	atomic_int panic_seen;          /* the console showed a kernel panic line */
	char fault[256];                /* why a vCPU stopped the VM (VM_STOP_FAULT) */
	int stop_signal;                /* VM_STOP_SIGNAL: which one */

	/* timing (CLOCK_MONOTONIC ns) for --boot-timer */
	bool boot_timer;
	uint64_t t_vm_start_ns;         /* just before the first KVM_RUN */
	double start_cpu_ms;            /* process CPU time when the BSP first entered the guest */
	struct timespec first_entry;    /* CLOCK_REALTIME then, so callers can measure wall time from their launch */
	atomic_int first_entry_done;
};

/* Create the VM: open KVM, check capabilities, create irqchip/PIT, guest memory, buses. */
int vm_create(struct vm *vm, const struct vm_config *cfg, cap_err *err);
/* Load the kernel, set up vCPUs, start them and the I/O thread; returns once running. */
int vm_boot(struct vm *vm, const struct vm_config *cfg, cap_err *err);
/* Request the VM to stop (any thread, async-signal unsafe); the first reason wins. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why);
/* A vCPU fault: record the first description and stop the VM with VM_STOP_FAULT. */
void vm_fault(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stop vCPUs and the I/O thread, free everything. Safe on a partly created VM. */
void vm_destroy(struct vm *vm);
/* Exit code for capsule from the stop reason. */
int vm_exit_code(const struct vm *vm);

/* Device helpers (call before vm_boot starts vCPUs). */
int vm_add_device(struct vm *vm, const char *name, void *opaque, void (*destroy)(void *));
int vm_append_cmdline(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t vm_alloc_mmio(struct vm *vm, uint64_t size);  /* page-aligned, in the 32-bit hole; 0 when full */
/* Announce a virtio-mmio device window to the guest (ACPI DSDT, or the command line under acpi=off). */
int vm_add_virtio_mmio(struct vm *vm, uint64_t addr, uint32_t size, uint32_t gsi);
int vm_alloc_irq(struct vm *vm);                        /* an IOAPIC GSI for a device, or -ENOSPC */

/* Interrupts and notifications. */
int vm_irq_line(struct vm *vm, uint32_t gsi, int level);
int vm_irqfd(struct vm *vm, int efd, uint32_t gsi);
int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, bool pio, int efd, bool match, uint64_t datamatch);

uint64_t vm_now_ns(void);
/* CPU time this process has used so far (all threads, user + kernel). */
double vm_process_cpu_ms(void);

#endif
