/* The allow-lists, one per VMM thread kind. To add a thread kind: a rules array and one row
 * in vmm_thread_kinds; its thread calls vmm_seccomp_enter("name") once it is set up. Every
 * rule says what needs it; docs/security.md explains the choices. */
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <string.h>

#include "seccomp.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define V(x) { (uint64_t)(x), #x }
#define ANY(sc, why) { sc, SC_ANY, 0, NULL, 0, why }
#define IN(sc, arg, vals, why) { sc, SC_ARG_IN, arg, vals, N(vals), why }
#define CLEAR(sc, arg, vals, why) { sc, SC_ARG_CLEAR, arg, vals, 1, why }

static const struct sc_value no_exec[] = { V(PROT_EXEC) };
static const struct sc_value read_only_open[] = { { O_WRONLY | O_RDWR | O_CREAT | O_TRUNC, "O_WRONLY|O_RDWR|O_CREAT|O_TRUNC" } };
static const struct sc_value madv_free[] = { V(MADV_DONTNEED), V(MADV_FREE) };
static const struct sc_value madv_balloon[] = { V(MADV_DONTNEED), V(MADV_FREE), V(MADV_REMOVE) };
static const struct sc_value af_unix[] = { V(AF_UNIX) };

static const struct sc_value vcpu_ioctls[] = {
	V(KVM_RUN), V(KVM_IRQ_LINE), V(KVM_IRQ_LINE_STATUS), V(KVM_SIGNAL_MSI),
	V(KVM_GET_REGS), V(KVM_GET_SREGS), V(TCGETS),
	V(TUNSETOFFLOAD), /* virtio-net: the guest's offload features, set when it acks them */
};
static const struct sc_value io_ioctls[] = {
	V(KVM_IRQ_LINE), V(KVM_IRQ_LINE_STATUS), V(KVM_SIGNAL_MSI),
};
static const struct sc_value main_ioctls[] = {
	V(KVM_IRQ_LINE), V(KVM_IRQ_LINE_STATUS), V(KVM_SIGNAL_MSI),
	V(TCGETS), V(TCSETS), V(TCSETSW), V(TCSETSF), V(TIOCGWINSZ),
};

#if VMM_SECCOMP_SANITIZER_BUILD
/* Sanitizer builds only (make asan; never build/capsule): what the ASan/LSan runtime itself
 * calls on a filtered thread, found with --seccomp log (the kernel's SECCOMP_RET_LOG records)
 * and strace -f over the VM suites. Every thread's exit frees its alternate signal stack and
 * fake stacks (SANITIZER_RULES). LSan's leak check runs on the thread that calls exit (main):
 * it clones a tracer task, which inherits main's filter and ptrace-stops every thread to scan
 * its registers and stack (LSAN_RULES, in main's list only). */
static const struct sc_value madv_asan[] = { V(MADV_DONTDUMP), V(MADV_NOHUGEPAGE) };
#define SANITIZER_RULES , \
	ANY("sigaltstack", "[sanitizer build] ASan's per-thread alternate signal stack"), \
	IN("madvise", 2, madv_asan, "[sanitizer build] ASan's shadow and fake stacks")
#define LSAN_RULES \
	ANY("prctl", "[sanitizer build] LSan: PR_SET_PTRACER, the tracer's PR_SET_PDEATHSIG"), \
	ANY("clone", "[sanitizer build] LSan: the tracer task of the leak check at exit"), \
	ANY("getppid", "[sanitizer build] LSan's tracer: is its parent alive"), \
	ANY("rt_sigaction", "[sanitizer build] LSan's tracer: its deadly-signal handlers"), \
	ANY("open", "[sanitizer build] LSan's tracer: /proc/self/task"), \
	ANY("getdents", "[sanitizer build] LSan's tracer: the threads in /proc/self/task"), \
	ANY("getdents64", "[sanitizer build] LSan's tracer: the threads in /proc/self/task"), \
	ANY("ptrace", "[sanitizer build] LSan's tracer: stopping each thread to read its registers"), \
	ANY("wait4", "[sanitizer build] LSan: the tracer waits for each stopped thread, main for the tracer"),
#else
#define SANITIZER_RULES
#define LSAN_RULES
#endif

/* What every thread needs to exist as a thread of this process: locks, memory (malloc's
 * arenas; never executable), signals the VMM itself sends, time, and ending. */
#define THREAD_BASICS \
	ANY("futex", "pthread mutexes and condition variables"), \
	ANY("rt_sigprocmask", "pthread signal masks"), \
	ANY("rt_sigreturn", "return from the vCPU kick handler"), \
	ANY("restart_syscall", "a wait restarted after a signal"), \
	ANY("sched_yield", "lock back-off in libc"), \
	ANY("clock_gettime", "timestamps (when the vDSO is not used)"), \
	ANY("clock_nanosleep", "short waits"), \
	ANY("nanosleep", "short waits"), \
	ANY("getpid", "libc's own checks (raise, abort)"), \
	ANY("gettid", "libc's own checks (raise, abort)"), \
	ANY("getrandom", "malloc's arena set-up"), \
	CLEAR("mmap", 2, no_exec, "malloc (never executable memory)"), \
	CLEAR("mprotect", 2, no_exec, "malloc's arenas (never executable)"), \
	ANY("munmap", "free"), \
	ANY("brk", "malloc on the main arena"), \
	ANY("exit", "a thread ends"), \
	ANY("exit_group", "the VMM ends"), \
	ANY("write", "console output, eventfd signals, log lines"), \
	ANY("writev", "log lines through stdio"), \
	ANY("close", "closing a descriptor the thread owns"), \
	ANY("newfstatat", "stdio's first use of a stream"), \
	ANY("fstat", "stdio's first use of a stream") \
	SANITIZER_RULES

static const struct sc_rule vcpu_rules[] = {
	THREAD_BASICS,
	IN("madvise", 2, madv_free, "a thread's stack given back when it ends"),
	IN("ioctl", 1, vcpu_ioctls, "KVM_RUN, interrupt lines of the devices that exit into it"),
	ANY("read", "eventfds and the boot timer's /proc/self/smaps"),
	CLEAR("openat", 2, read_only_open, "the boot timer reads /proc/self/smaps once (read-only)"),
	ANY("lseek", "stdio reading /proc/self/smaps"),
	ANY("tgkill", "kicking another vCPU out of KVM_RUN"),
	ANY("io_uring_enter", "virtio-blk submits the requests of a queue notify handled on this thread"),
	ANY("epoll_ctl", "a device activated by the guest watches its descriptors"),
	ANY("timerfd_settime", "a rate-limited queue started from here arms its limiter's timer"),
};

static const struct sc_rule io_rules[] = {
	THREAD_BASICS,
	IN("madvise", 2, madv_balloon, "virtio-balloon gives guest pages back; thread stack at exit"),
	IN("ioctl", 1, io_ioctls, "device interrupt lines"),
	ANY("epoll_wait", "the I/O loop"),
	ANY("epoll_pwait", "the I/O loop"),
	ANY("epoll_ctl", "devices watch and unwatch their descriptors"),
	ANY("read", "ioeventfds, TAP frames, vsock streams"),
	ANY("readv", "TAP frames into guest buffers"),
	ANY("io_uring_enter", "virtio-blk submissions and completions"),
	ANY("timerfd_settime", "a rate-limited queue (bw=, iops=, rx-bw=, ...) arms its limiter's timer"),
	IN("socket", 0, af_unix, "vsock: connections to host Unix sockets only"),
	ANY("connect", "vsock: the guest connects to a host Unix socket"),
	ANY("accept4", "vsock: the host connects to the guest"),
	ANY("recvfrom", "vsock streams"),
	ANY("sendto", "vsock streams"),
	ANY("recvmsg", "vsock streams"),
	ANY("sendmsg", "vsock streams"),
	ANY("shutdown", "vsock: a half-closed stream"),
	ANY("getsockopt", "vsock: the result of a non-blocking connect"),
	ANY("tgkill", "kicking a vCPU"),
};

static const struct sc_rule blk_rules[] = {
	THREAD_BASICS,
	IN("madvise", 2, madv_free, "a thread's stack given back when it ends"),
	ANY("preadv", "disk reads (worker-thread backend)"),
	ANY("pwritev", "disk writes (worker-thread backend)"),
	ANY("fdatasync", "disk flushes"),
	ANY("fallocate", "disk discards (punch hole)"),
};

static const struct sc_rule console_rules[] = {
	THREAD_BASICS,
	IN("madvise", 2, madv_free, "a thread's stack given back when it ends"),
	ANY("read", "the console input file"),
};

static const struct sc_rule main_rules[] = {
	THREAD_BASICS,
	LSAN_RULES
	IN("madvise", 2, madv_free, "free, a thread's stack given back"),
	IN("ioctl", 1, main_ioctls, "the console terminal; serial interrupts for console input"),
	ANY("epoll_wait", "the main loop"),
	ANY("epoll_pwait", "the main loop"),
	ANY("epoll_ctl", "the console pauses and resumes its input"),
	ANY("read", "signalfd, the stop eventfd, console input"),
	ANY("tgkill", "kicking vCPUs when the VM stops or pauses"),
	ANY("unlinkat", "the vsock listening socket removed at exit"),
	ANY("unlink", "the vsock listening socket removed at exit"),
	ANY("io_uring_enter", "virtio-blk's ring drained at exit"),
	ANY("timerfd_settime", "a rate limit changed while the VM runs resumes a waiting queue"),
	ANY("lseek", "stdio"),
};

const struct vmm_thread_kind vmm_thread_kinds[] = {
	{ "main", "the main thread once the guest runs (not with --api-sock/--id or --snapshot: see docs/security.md): "
		  "signals, console, stop, teardown", main_rules, N(main_rules) },
	{ "vcpu", "each vCPU thread (vcpuN): KVM_RUN and the devices that exit into it", vcpu_rules, N(vcpu_rules) },
	{ "io", "the I/O thread (capsule-io): virtio queues, TAP, vsock, block completions", io_rules, N(io_rules) },
	{ "blk", "virtio-blk's worker thread (capsule-blk) when io_uring is unavailable", blk_rules, N(blk_rules) },
	{ "console", "the console feeder thread (input from a regular file)", console_rules, N(console_rules) },
};
const int vmm_nthread_kinds = N(vmm_thread_kinds);

const struct vmm_thread_kind *vmm_thread_kind_find(const char *name)
{
	for (int i = 0; i < vmm_nthread_kinds; i++)
		if (!strcmp(vmm_thread_kinds[i].name, name))
			return &vmm_thread_kinds[i];
	return NULL;
}
