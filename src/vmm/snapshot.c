/* Snapshot and restore (snapshot.h): the state file is the envelope of snapshot_file.h around
 * these sections, in this order:
 *   machine   the guest's shape: vCPUs and memory size
 *   config    its devices (snapshot_config.h), so that a restore builds the same ones
 *   kvm-vm    PICs, IOAPIC, PIT, clock (kvm_vm_state.h)
 *   vcpuN     one per vCPU (vcpu_state.h)
 *   <device>  one per registered device, written by its own save op (device.h)
 * The memory file is guest RAM at its offset in the VM's one mapping, holes where it is zero. */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/log.h"
#include "boot/boot.h"
#include "kvm_vm_state.h"
#include "machine.h"
#include "snapshot_config.h"
#include "snapshot_cpuid.h"
#include "snapshot_decode.h"
#include "snapshot_file.h"
#include "vcpu.h"
#include "vcpu_state.h"
#include "vm.h"

#define PAGE 4096ULL


static const char *state_name(enum vm_state s)
{
	switch (s) {
	case VM_CREATED: return "not started";
	case VM_RUNNING: return "running";
	case VM_PAUSED: return "paused";
	default: return "stopped";
	}
}

/* "<path>.tmp-<pid>": written, then renamed over path. */
static void tmp_name(char *out, size_t n, const char *path)
{
	snprintf(out, n, "%s.tmp-%ld", path, (long)getpid());
}

static int write_all(int fd, const void *p, size_t n, off_t off)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = pwrite(fd, b, n > (1u << 30) ? (1u << 30) : n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		b += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* ---- memory ---- */

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[PAGE];
	return memcmp(p, zero, PAGE) == 0;
}

static int write_data_ranges(int src_fd, const uint8_t *base, uint64_t total, int fd)
{
	for (off_t pos = 0; (uint64_t)pos < total;) {
		off_t data = lseek(src_fd, pos, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		off_t hole = lseek(src_fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if ((uint64_t)hole > total)
			hole = (off_t)total;
		int r = write_all(fd, base + data, (size_t)(hole - data), data);
		if (r < 0)
			return r;
		pos = hole;
	}
	return 0;
}

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61)	/* a page cache page (or shared anonymous): not a private copy */

/* RAM mapped MAP_PRIVATE from a snapshot's memory file: what the guest has is the file's data
 * ranges (read through the mapping, which shows the guest's writes) plus the private copies of
 * pages it wrote where the file has holes, which /proc/self/pagemap tells apart (present or
 * swapped, not a file page). -ENOSYS when pagemap cannot be read. */
static int write_cow_memory(const struct guest_mem *m, int fd)
{
	int r = write_data_ranges(m->cow_fd, m->base, m->total, fd);
	if (r < 0)
		return r;
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return -ENOSYS;
	enum { CHUNK = 4096 };
	uint64_t *e = malloc(CHUNK * sizeof(*e)), pages = m->total / PAGE;
	uint64_t first = (uint64_t)(uintptr_t)m->base / PAGE;
	if (!e) {
		close(pm);
		return -ENOMEM;
	}
	for (uint64_t p = 0; p < pages && r == 0; p += CHUNK) {
		uint64_t n = pages - p < CHUNK ? pages - p : CHUNK;
		ssize_t got = pread(pm, e, n * sizeof(*e), (off_t)((first + p) * sizeof(*e)));
		if (got != (ssize_t)(n * sizeof(*e))) {
			r = -ENOSYS;
			break;
		}
		for (uint64_t i = 0; i < n && r == 0;) {
			if (!(e[i] & (PM_PRESENT | PM_SWAPPED)) || (e[i] & PM_FILE)) {
				i++;
				continue;
			}
			uint64_t j = i + 1;
			while (j < n && (e[j] & (PM_PRESENT | PM_SWAPPED)) && !(e[j] & PM_FILE))
				j++;
			r = write_all(fd, m->base + (p + i) * PAGE, (size_t)((j - i) * PAGE), (off_t)((p + i) * PAGE));
			i = j;
		}
	}
	free(e);
	close(pm);
	return r;
}

/* Every page of RAM with data. A memfd tells where it has data (SEEK_DATA), so untouched RAM
 * costs nothing; RAM mapped from a snapshot's file is its data plus the guest's private copies
 * (write_cow_memory), or, without pagemap, every non-zero page found by a scan. */
static int write_full_memory(struct vm *vm, int fd)
{
	const struct guest_mem *m = &vm->mem;
	if (!m->cow && m->memfd >= 0)
		return write_data_ranges(m->memfd, m->base, m->total, fd);
	if (m->cow && m->cow_fd > 0) {
		int r = write_cow_memory(m, fd);
		if (r != -ENOSYS)
			return r;
		if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)m->total) < 0)
			return -errno;
	}
	for (uint64_t off = 0; off < m->total;) {
		if (page_is_zero(m->base + off)) {
			off += PAGE;
			continue;
		}
		uint64_t end = off + PAGE;
		while (end < m->total && !page_is_zero(m->base + end))
			end += PAGE;
		int r = write_all(fd, m->base + off, (size_t)(end - off), (off_t)off);
		if (r < 0)
			return r;
		off = end;
	}
	return 0;
}

/* KVM's dirty bitmap of RAM slot i (and KVM clears it). -ENOENT: the slot is not logging. */
static int get_dirty_log(struct vm *vm, int i, uint64_t **bitmap)
{
	uint64_t pages = vm->mem.regions[i].size / PAGE;
	uint64_t *bm = calloc((size_t)((pages + 63) / 64) + 1, sizeof(uint64_t));
	if (!bm)
		return -ENOMEM;
	struct kvm_dirty_log log = { .slot = (uint32_t)i, .dirty_bitmap = bm };
	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
		int e = errno;
		free(bm);
		return -e;
	}
	*bitmap = bm;
	return 0;
}

int vm_snapshot_dirty_ranges(struct vm *vm, int (*cb)(void *ctx, uint64_t off, uint64_t len), void *ctx,
			     uint64_t *npages)
{
	*npages = 0;
	if (!atomic_load(&vm->mem.vmm_dirty))
		return -ENOENT;
	for (int i = 0; i < vm->mem.nregions; i++) {
		const struct guest_region *g = &vm->mem.regions[i];
		uint64_t *bm = NULL;
		int r = get_dirty_log(vm, i, &bm);
		if (r < 0)
			return r;
		uint64_t base = (uint64_t)(g->host - vm->mem.base), pages = g->size / PAGE;
		/* fold the VMM's marks into KVM's bitmap (and clear them) */
		for (uint64_t p = 0; p < pages; p++)
			if (guest_mem_take_dirty(&vm->mem, base / PAGE + p))
				bm[p / 64] |= 1ull << (p % 64);
		for (uint64_t p = 0; p < pages && r == 0;) {
			if (!(bm[p / 64] >> (p % 64) & 1)) {
				p++;
				continue;
			}
			uint64_t q = p + 1;
			while (q < pages && (bm[q / 64] >> (q % 64) & 1))
				q++;
			r = cb(ctx, base + p * PAGE, (q - p) * PAGE);
			*npages += q - p;
			p = q;
		}
		free(bm);
		if (r < 0)
			return r;
	}
	return 0;
}

struct dirty_write {
	struct vm *vm;
	int fd;
};

static int write_dirty_range(void *ctx, uint64_t off, uint64_t len)
{
	struct dirty_write *w = ctx;
	return write_all(w->fd, w->vm->mem.base + off, (size_t)len, (off_t)off);
}

/* Only the pages dirtied since the last snapshot (or since tracking began): by the guest (KVM's
 * log) or by the VMM (used rings, buffers devices filled, ballooned pages: memory.h). */
static int write_dirty_memory(struct vm *vm, int fd, uint64_t *npages)
{
	struct dirty_write w = { vm, fd };
	return vm_snapshot_dirty_ranges(vm, write_dirty_range, &w, npages);
}

int vm_snapshot_track_dirty(struct vm *vm, cap_err *err)
{
	if (guest_mem_track_vmm_writes(&vm->mem) < 0)
		return cap_errf(err, ENOMEM, "dirty-page tracking");
	for (int i = 0; i < vm->mem.nregions; i++) {
		struct kvm_userspace_memory_region reg = {
			.slot = (uint32_t)i,
			.flags = KVM_MEM_LOG_DIRTY_PAGES,
			.guest_phys_addr = vm->mem.regions[i].gpa,
			.memory_size = vm->mem.regions[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)vm->mem.regions[i].host,
		};
		uint64_t t0 = vm_now_ns();
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &reg) < 0)
			return cap_errf(err, errno, "dirty-page tracking: KVM_SET_USER_MEMORY_REGION (slot %d)", i);
		vm->memslot_ns += vm_now_ns() - t0;
	}
	return 0;
}

/* ---- the state ---- */

static int encode_state(struct vm *vm, struct vmstate_out *out, cap_err *err)
{
	vmstate_begin(out, "machine", SNAPSHOT_MACHINE_VERSION);
	vmstate_put_u32(out, "vcpus", (uint32_t)vm->ncpus);
	vmstate_put_u64(out, "memory_mib", vm->cfg.memory_mib);
	vmstate_put_u64(out, "memory_bytes", vm->mem.total);
	int r = vmstate_end(out);
	if (r < 0)
		return cap_errf(err, -r, "machine state");
	vmstate_begin(out, "config", SNAPSHOT_CONFIG_VERSION);
	snapshot_config_encode(&vm->cfg, out);
	if ((r = vmstate_end(out)) < 0)
		return cap_errf(err, -r, "device configuration");

	struct kvm_vm_saved ks;
	if ((r = kvm_vm_state_read(vm->vm_fd, &ks, err)) < 0)
		return r;
	vmstate_begin(out, "kvm-vm", KVM_VM_STATE_VERSION);
	kvm_vm_state_encode(&ks, out);
	if ((r = vmstate_end(out)) < 0)
		return cap_errf(err, -r, "irqchip, PIT and clock state");

	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu_saved vs;
		char name[16];
		snprintf(name, sizeof(name), "vcpu%d", i);
		r = vcpu_state_read(vm->kvm_fd, vm->vm_fd, vm->vcpus[i].fd, &vs, err);
		if (r == 0) {
			vmstate_begin(out, name, VCPU_STATE_VERSION);
			vcpu_state_encode(&vs, out);
			if ((r = vmstate_end(out)) < 0)
				cap_errf(err, -r, "state");
		}
		vcpu_saved_free(&vs);
		if (r < 0) {
			cap_err_prefix(err, "vCPU %d", i);
			return r;
		}
	}
	return vm_devices_save(&vm->devices, out, err);
}

int vm_snapshot_create(struct vm *vm, const struct vm_snapshot_params *p, cap_err *err)
{
	char tstate[PATH_MAX], tmem[PATH_MAX];
	struct vmstate_out out;
	int sfd = -1, mfd = -1, r;
	uint8_t *file = NULL;
	size_t file_len = 0;
	uint64_t t0 = vm_now_ns();

	if (!p || !p->state_path || !*p->state_path || !p->mem_path || !*p->mem_path)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "snapshot: a state file and a memory file path are needed");
	enum vm_state s = vm_get_state(vm);
	if (s != VM_PAUSED)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "snapshot: the VM is %s; pause it first", state_name(s));
	if (strlen(p->state_path) + 32 > sizeof(tstate) || strlen(p->mem_path) + 32 > sizeof(tmem))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "snapshot: path too long");
	tmp_name(tstate, sizeof(tstate), p->state_path);
	tmp_name(tmem, sizeof(tmem), p->mem_path);

	vmstate_out_init(&out);
	if ((r = encode_state(vm, &out, err)) < 0) {
		cap_err_prefix(err, "snapshot");
		goto out;
	}
	mfd = open(tmem, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (mfd < 0) {
		r = cap_errf(err, errno, "snapshot memory file %s", p->mem_path);
		goto out;
	}
	if (ftruncate(mfd, (off_t)vm->mem.total) < 0) {
		r = cap_errf(err, errno, "snapshot memory file %s", p->mem_path);
		goto out;
	}
	uint64_t dirty = 0;
	if (p->diff) {
		r = write_dirty_memory(vm, mfd, &dirty);
		if (r == -ENOENT) {
			r = cap_errf_code(err, CAP_EXIT_USAGE, 0,
					  "diff snapshot: dirty-page tracking is off for this VM (turn it on before the base snapshot)");
			goto out;
		}
	} else {
		r = write_full_memory(vm, mfd);
		/* A full snapshot is the new base of diffs: restart the dirty log from here. */
		for (int i = 0; r == 0 && atomic_load(&vm->mem.vmm_dirty) && i < vm->mem.nregions; i++) {
			uint64_t *bm = NULL;
			if (get_dirty_log(vm, i, &bm) == 0)
				free(bm);
		}
		guest_mem_clear_dirty(&vm->mem);
	}
	if (r < 0) {
		r = cap_errf(err, -r, "snapshot memory file %s", p->mem_path);
		goto out;
	}
	if ((r = snapshot_file_build(p->diff ? SNAPSHOT_FLAG_DIFF : 0, vm->mem.total, out.buf, out.len, &file,
				     &file_len)) < 0) {
		r = cap_errf(err, -r, "snapshot state file %s", p->state_path);
		goto out;
	}
	sfd = open(tstate, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (sfd < 0) {
		r = cap_errf(err, errno, "snapshot state file %s", p->state_path);
		goto out;
	}
	if ((r = write_all(sfd, file, file_len, 0)) < 0) {
		r = cap_errf(err, -r, "snapshot state file %s", p->state_path);
		goto out;
	}
	if (close(sfd) < 0 || close(mfd) < 0) {
		sfd = mfd = -1;
		r = cap_errf(err, errno, "snapshot: closing %s", p->state_path);
		goto out;
	}
	sfd = mfd = -1;
	if (rename(tmem, p->mem_path) < 0) {
		r = cap_errf(err, errno, "snapshot memory file %s", p->mem_path);
		goto out;
	}
	if (rename(tstate, p->state_path) < 0) {
		r = cap_errf(err, errno, "snapshot state file %s", p->state_path);
		unlink(p->mem_path);
		goto out;
	}
	cap_debug("snapshot: %zu bytes of state%s in %.2f ms", out.len, p->diff ? ", diff" : "",
		  (double)(vm_now_ns() - t0) / 1e6);
	if (p->diff)
		cap_debug("snapshot: %llu dirty pages", (unsigned long long)dirty);
	r = 0;
out:
	if (sfd >= 0)
		close(sfd);
	if (mfd >= 0)
		close(mfd);
	if (r < 0) {
		unlink(tstate);
		unlink(tmem);
	}
	vmstate_out_free(&out);
	free(file);
	if (r == 0 && p->resume)
		r = vm_resume(vm, err);
	return r;
}

/* ---- restore ---- */

static int read_state_file(const char *path, uint8_t **buf, size_t *len, cap_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cap_errf(err, errno, "snapshot %s", path);
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0) {
		r = cap_errf(err, errno, "snapshot %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)SNAPSHOT_STATE_MAX) {
		r = cap_errf(err, 0, "snapshot %s: not a state file (%s)", path,
			     S_ISREG(st.st_mode) ? "larger than 64 MiB" : "not a regular file");
		goto out;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len + 1);
	if (!*buf) {
		r = cap_errf(err, ENOMEM, "snapshot %s", path);
		goto out;
	}
	for (size_t got = 0; got < *len;) {
		ssize_t n = pread(fd, *buf + got, *len - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*len = got; /* shrank under us: the envelope check calls it truncated */
			break;
		}
		got += (size_t)n;
	}
out:
	close(fd);
	return r;
}

static bool vmm_section(const char *name, uint32_t ncpus)
{
	if (!strcmp(name, "machine") || !strcmp(name, "config") || !strcmp(name, "kvm-vm"))
		return true;
	char *end;
	if (strncmp(name, "vcpu", 4) || name[4] < '0' || name[4] > '9')
		return false;
	unsigned long i = strtoul(name + 4, &end, 10);
	return !*end && i < ncpus;
}

/* Every section that is not the VMM's own must belong to a device of the new VM, and every
 * device of the new VM must have one (vm_devices_restore finds them by name). */
static int check_device_sections(struct vm *vm, const uint8_t *body, size_t len, uint32_t ncpus, cap_err *err)
{
	struct vmstate_in in;
	size_t pos = 0;
	vmstate_in_init(&in, body, len);
	while (vmstate_next(&in, &pos) == 1)
		if (!vmm_section(in.section, ncpus) && !vm_device_find(&vm->devices, in.section))
			return cap_errf(err, 0, "section %s: a device this VM does not have", in.section);
	for (int i = 0; i < vm->devices.n; i++)
		if (vmstate_open(&in, vm->devices.dev[i].name, NULL) < 0)
			return cap_errf(err, 0, "section %s: missing", vm->devices.dev[i].name);
	return 0;
}

static int vcpu_cpuid(int fd, struct vcpu_cpuid_entry **out, uint32_t *n, cap_err *err)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + VCPU_STATE_MAX_CPUID * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return cap_errf(err, ENOMEM, "CPUID");
	c->nent = VCPU_STATE_MAX_CPUID;
	if (ioctl(fd, KVM_GET_CPUID2, c) < 0) {
		int e = errno;
		free(c);
		return cap_errf(err, e, "KVM_GET_CPUID2");
	}
	*out = calloc(c->nent ? c->nent : 1, sizeof(**out));
	if (!*out) {
		free(c);
		return cap_errf(err, ENOMEM, "CPUID");
	}
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		(*out)[i] = (struct vcpu_cpuid_entry){ e->function, e->index, e->flags, e->eax, e->ebx, e->ecx, e->edx };
	}
	*n = c->nent;
	free(c);
	return 0;
}

/* vCPU threads park before their first KVM_RUN, so no guest instruction runs until vm_resume. */
static int start_paused(struct vm *vm, cap_err *err)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = true;
	pthread_mutex_unlock(&vm->pause_lock);
	int r = vm_start(vm, err);
	if (r == 0)
		r = vm_pause(vm, err);
	return r;
}

int vm_snapshot_restore(struct vm *vm, const struct vm_snapshot_params *p, const struct vm_config *host,
			cap_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	const uint8_t *body = NULL;
	struct snapshot_header h;
	struct restore_plan pl = { 0 };
	struct vm_config cfg;
	struct vcpu_cpuid_entry *hc = NULL;
	uint32_t nhc = 0;
	int mfd = -1, r;
	uint64_t t0 = vm_now_ns();

	memset(vm, 0, sizeof(*vm)); /* vm_destroy-safe even when we fail before vm_create */
	vm->kvm_fd = vm->vm_fd = vm->stop_fd = vm->mem.memfd = vm->io.epfd = vm->io.wake_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm_config_init(&cfg);
	if (!p || !p->state_path || !*p->state_path || !p->mem_path || !*p->mem_path)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "restore: a state file and a memory file path are needed");
	if ((r = read_state_file(p->state_path, &buf, &len, err)) < 0)
		goto out;
	if ((r = snapshot_file_check(buf, len, &h, &body, err)) < 0 ||
	    (r = snapshot_decode(body, (size_t)h.body_len, h.mem_bytes, &pl, err)) < 0) {
		cap_err_prefix(err, "snapshot %s", p->state_path);
		goto out;
	}
	mfd = open(p->mem_path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (mfd < 0 || fstat(mfd, &st) < 0) {
		r = cap_errf(err, errno, "snapshot memory file %s", p->mem_path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != h.mem_bytes) {
		r = cap_errf(err, 0, "snapshot memory file %s: %lld bytes, the snapshot's guest has %llu", p->mem_path,
			     (long long)st.st_size, (unsigned long long)h.mem_bytes);
		goto out;
	}

	/* What the guest sees comes from the snapshot; where its console goes, from the host. */
	cfg = pl.devices;
	vm_config_init(&pl.devices);
	cfg.ncpus = (int)pl.ncpus;
	cfg.memory_mib = pl.memory_mib;
	cfg.console = host ? host->console : VM_CONSOLE_NONE;
	cfg.boot_timer = host && host->boot_timer;
	if (host && host->console_path && !(cfg.console_path = strdup(host->console_path))) {
		r = cap_errf(err, ENOMEM, "VM configuration");
		goto out;
	}
	/* The host may put the vsock's Unix socket elsewhere (a migration on one host: the source
	 * still holds the snapshot's path). */
	if (host && host->vsock_uds && cfg.vsock_uds && vm_config_set_string(&cfg.vsock_uds, host->vsock_uds, err) < 0) {
		r = -ENOMEM;
		goto out;
	}
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_mutex_destroy(&vm->lock);
	if ((r = vm_create(vm, &cfg, err)) < 0)
		goto out;
	cap_debug("restore: machine created at %.3f ms", (double)(vm_now_ns() - t0) / 1e6);
	if ((r = check_device_sections(vm, body, (size_t)h.body_len, pl.ncpus, err)) < 0) {
		cap_err_prefix(err, "snapshot %s", p->state_path);
		goto out;
	}
	if ((r = vcpu_cpuid(vm->vcpus[0].fd, &hc, &nhc, err)) < 0)
		goto out;
	char why[256];
	if (snapshot_cpuid_check(pl.vcpus[0].cpuid, pl.vcpus[0].ncpuid, hc, nhc, why, sizeof(why)) < 0) {
		r = cap_errf(err, 0, "snapshot %s: %s", p->state_path, why);
		goto out;
	}
	if ((r = guest_mem_map_file(&vm->mem, mfd, err)) < 0)
		goto out;
	cap_debug("restore: checked, memory mapped at %.3f ms", (double)(vm_now_ns() - t0) / 1e6);
	if ((r = kvm_vm_state_apply(vm->vm_fd, &pl.vmstate, err)) < 0) {
		cap_err_prefix(err, "restore");
		goto out;
	}
	for (uint32_t i = 0; i < pl.ncpus; i++)
		if ((r = vcpu_state_apply(vm->vm_fd, vm->vcpus[i].fd, &pl.vcpus[i], err)) < 0) {
			cap_err_prefix(err, "restore: vCPU %u", i);
			goto out;
		}
	cap_debug("restore: vCPUs and irqchip set at %.3f ms", (double)(vm_now_ns() - t0) / 1e6);
	struct vmstate_in in;
	vmstate_in_init(&in, body, (size_t)h.body_len);
	if ((r = vm_devices_restore(&vm->devices, &in, err)) < 0) {
		cap_err_prefix(err, "snapshot %s", p->state_path);
		goto out;
	}
	/* Straight to running when asked: no park and release of every vCPU thread on the way. The
	 * devices' resume ops run first either way (vm_resume calls them): kicks the guest made
	 * before the snapshot are replayed once the I/O thread runs. */
	if (p->resume)
		vm_devices_resume(&vm->devices);
	if ((r = p->resume ? vm_start(vm, err) : start_paused(vm, err)) < 0)
		goto out;
	cap_debug("restore: devices restored and threads %s at %.3f ms", p->resume ? "running" : "parked",
		  (double)(vm_now_ns() - t0) / 1e6);
out:
	if (mfd >= 0)
		close(mfd);
	free(hc);
	snapshot_plan_free(&pl);
	free(buf);
	vm_config_free(&cfg);
	return r;
}

/* ---- merge ---- */

int vm_snapshot_merge(const char *base_mem, const char *const *diffs, int ndiffs, cap_err *err)
{
	int bfd = open(base_mem, O_WRONLY | O_CLOEXEC), r = 0;
	struct stat bst;
	if (bfd < 0 || fstat(bfd, &bst) < 0) {
		r = cap_errf(err, errno, "base memory file %s", base_mem);
		goto out;
	}
	/* Check every diff before writing anything, so a bad one leaves the base as it was. */
	for (int i = 0; i < ndiffs; i++) {
		struct stat st;
		if (stat(diffs[i], &st) < 0) {
			r = cap_errf(err, errno, "diff memory file %s", diffs[i]);
			goto out;
		}
		if (!S_ISREG(st.st_mode) || st.st_size != bst.st_size) {
			r = cap_errf(err, 0, "diff memory file %s: %lld bytes, the base %s has %lld", diffs[i],
				     (long long)st.st_size, base_mem, (long long)bst.st_size);
			goto out;
		}
		/* A diff's pages are where it has data: a filesystem that reports a sparse file as all
		 * data would make zeros of the holes overwrite the base. */
		int dfd = open(diffs[i], O_RDONLY | O_CLOEXEC);
		off_t hole = dfd < 0 ? -1 : lseek(dfd, 0, SEEK_HOLE);
		if (dfd >= 0)
			close(dfd);
		if (hole < 0) {
			r = cap_errf(err, errno, "diff memory file %s", diffs[i]);
			goto out;
		}
		if (hole == st.st_size && (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size / 2) {
			r = cap_errf(err, 0, "diff memory file %s: its filesystem does not report holes (SEEK_HOLE), "
				     "so its dirty pages cannot be told apart", diffs[i]);
			goto out;
		}
	}
	uint8_t *chunk = malloc(1u << 20);
	if (!chunk) {
		r = cap_errf(err, ENOMEM, "merge");
		goto out;
	}
	for (int i = 0; i < ndiffs && r == 0; i++) {
		int dfd = open(diffs[i], O_RDONLY | O_CLOEXEC);
		if (dfd < 0) {
			r = cap_errf(err, errno, "diff memory file %s", diffs[i]);
			break;
		}
		/* A diff holds data exactly where the guest dirtied pages: copy its data ranges. */
		for (off_t pos = 0; pos < bst.st_size && r == 0;) {
			off_t data = lseek(dfd, pos, SEEK_DATA);
			if (data < 0) {
				if (errno != ENXIO)
					r = cap_errf(err, errno, "diff memory file %s", diffs[i]);
				break;
			}
			off_t hole = lseek(dfd, data, SEEK_HOLE);
			if (hole < 0) {
				r = cap_errf(err, errno, "diff memory file %s", diffs[i]);
				break;
			}
			for (off_t o = data; o < hole && r == 0;) {
				size_t n = (size_t)(hole - o) < (1u << 20) ? (size_t)(hole - o) : (1u << 20);
				ssize_t got = pread(dfd, chunk, n, o);
				if (got <= 0) {
					r = cap_errf(err, got < 0 ? errno : EIO, "diff memory file %s", diffs[i]);
					break;
				}
				if ((r = write_all(bfd, chunk, (size_t)got, o)) < 0)
					r = cap_errf(err, -r, "base memory file %s", base_mem);
				o += got;
			}
			pos = hole;
		}
		close(dfd);
	}
	free(chunk);
out:
	if (bfd >= 0 && close(bfd) < 0 && r == 0)
		r = cap_errf(err, errno, "base memory file %s", base_mem);
	return r;
}
