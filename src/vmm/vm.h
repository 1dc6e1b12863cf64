/* The VM object: KVM handles, guest memory, buses, vCPUs, the device registry, its own copy of
 * the configuration, and the lifecycle state  created -> running <-> paused -> stopped.
 * The steps that move it between states (create the machine, load a kernel, start, pause,
 * resume, destroy) are in machine.h; this file has what vCPUs and devices call. */
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
#include "config.h"
#include "device.h"
#include "memory.h"

enum vm_state { VM_CREATED, VM_RUNNING, VM_PAUSED, VM_STOPPED };

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
	VM_STOP_MIGRATED,   /* live-migrated: another process runs the guest now */
};

struct vcpu;
struct serial;

struct vm {
	struct vm_config cfg;           /* the VM's own deep copy, freed with it */
	int kvm_fd, vm_fd;
	int run_size;                   /* mmap size of struct kvm_run */
	struct guest_mem mem;
	struct bus pio, mmio;
	int ncpus;
	struct vcpu *vcpus;
	struct evloop io;               /* I/O thread: virtio queues, TAP, sockets */
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

	struct vm_devices devices;      /* every device, in creation order */

	/* lifecycle */
	pthread_mutex_t lock;           /* guards state and stop fields */
	enum vm_state state;            /* written under lock; vCPU threads read it atomically */
	/* Pausing (vcpu.c parks, machine.c waits). pause_lock guards pause_requested and every
	 * vCPU's parked/exited flag; pause_cond is broadcast whenever one of them changes. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested;
	enum vm_stop_reason stop_reason;
	int test_exit_status;
	int stop_fd;                    /* eventfd the main loop waits on: the VM wants to stop */
	atomic_int panic_seen;          /* the console showed a kernel panic line */
	char fault[256];                /* why a vCPU stopped the VM (VM_STOP_FAULT) */
	int stop_signal;                /* VM_STOP_SIGNAL: which one */

	/* timing (CLOCK_MONOTONIC ns) for --boot-timer */
	bool boot_timer;
	uint64_t t_vm_start_ns;         /* just before the first KVM_RUN */
	uint64_t t_guest_init_ns;       /* the guest wrote the boot timer's magic (0: not yet) */
	double start_cpu_ms;            /* process CPU time when the BSP first entered the guest */
	struct timespec first_entry;    /* CLOCK_REALTIME then, so callers can measure wall time from their launch */
	atomic_int first_entry_done;
	/* Wall time spent in KVM_SET_USER_MEMORY_REGION: a fixed cost per call (KVM waits for an SRCU
	 * grace period), whatever the size, that a restore's latency report names apart. */
	uint64_t memslot_ns;
};

/* The part of vm_create (machine.h) that needs no KVM: a zeroed VM with every fd at -1, its
 * locks, empty buses, the resource allocators at their first values, state VM_CREATED. */
void vm_init(struct vm *vm);

/* A vCPU's I/O exit, dispatched to the devices as the guest made it: a port access of size
 * bytes repeated count times (string I/O: `rep outsb` hands over count elements at once, data
 * walking through them), or one MMIO access of len bytes (at most 8, the exit's buffer; longer
 * ones are dropped). false: no device claims the address (reads then return all-ones). */
bool vm_pio_exit(struct vm *vm, uint16_t port, uint32_t size, uint32_t count, bool is_write, uint8_t *data);
bool vm_mmio_exit(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

/* Request the VM to stop (any thread, async-signal unsafe); the first reason wins. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why);
/* A vCPU fault: record the first description and stop the VM with VM_STOP_FAULT. */
void vm_fault(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The lifecycle state, read without the lock (what vCPU threads use). */
enum vm_state vm_get_state(const struct vm *vm);
/* Exit code for capsule from the stop reason. */
int vm_exit_code(const struct vm *vm);

/* Device helpers (call while the machine is created, before vm_start). */
int vm_add_device(struct vm *vm, const char *name, const struct vm_device_ops *ops, void *opaque, cap_err *err);
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
