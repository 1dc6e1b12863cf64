#include "memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void split_regions(struct guest_mem *m)
{
	uint64_t low = m->total < GUEST_MMIO_HOLE_START ? m->total : GUEST_MMIO_HOLE_START;

	m->nregions = 1;
	m->regions[0] = (struct guest_region){ .gpa = 0, .size = low, .host = m->base };
	if (m->total > low) {
		m->nregions = 2;
		m->regions[1] = (struct guest_region){
			.gpa = GUEST_MMIO_HOLE_END, .size = m->total - low, .host = m->base + low
		};
	}
}

int guest_mem_init(struct guest_mem *m, uint64_t size, cap_err *err)
{
	memset(m, 0, sizeof(*m));
	m->memfd = memfd_create("capsule-guest-ram", MFD_CLOEXEC);
	if (m->memfd < 0)
		return cap_errf(err, errno, "guest memory: memfd_create");
	if (ftruncate(m->memfd, (off_t)size) < 0) {
		int e = errno;
		close(m->memfd);
		m->memfd = -1;
		return cap_errf(err, e, "guest memory: cannot size %llu MiB", (unsigned long long)(size >> 20));
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, m->memfd, 0);
	if (p == MAP_FAILED) {
		int e = errno;
		close(m->memfd);
		m->memfd = -1;
		return cap_errf(err, e, "guest memory: cannot map %llu MiB", (unsigned long long)(size >> 20));
	}
	/* Guest RAM is large and private to the guest: keep it out of core dumps and let THP back it. */
	madvise(p, size, MADV_DONTDUMP);
	madvise(p, size, MADV_HUGEPAGE);
	m->base = p;
	m->total = size;
	m->fresh = true;
	split_regions(m);
	return 0;
}

int guest_mem_map_file(struct guest_mem *m, int fd, cap_err *err)
{
	if (m->memfd < 0 || !m->base)
		return cap_errf(err, EINVAL, "guest memory: not mapped");
	void *p = mmap(m->base, m->total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		return cap_errf(err, errno, "guest memory: cannot map the memory file");
	madvise(p, m->total, MADV_DONTDUMP);
	if (m->cow_fd > 0)
		close(m->cow_fd);
	m->cow_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	m->cow = true;
	m->fresh = false;
	return 0;
}

void guest_mem_init_buffer(struct guest_mem *m, void *buf, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->memfd = -1;
	m->base = buf;
	m->total = size;
	split_regions(m);
}

void guest_mem_free(struct guest_mem *m)
{
	if (m->cow && m->cow_fd > 0)
		close(m->cow_fd);
	free((void *)atomic_load(&m->vmm_dirty));
	if (m->memfd >= 0) {
		if (m->base)
			munmap(m->base, m->total);
		close(m->memfd);
	}
	memset(m, 0, sizeof(*m));
	m->memfd = -1;
}

int guest_mem_track_vmm_writes(struct guest_mem *m)
{
	if (atomic_load(&m->vmm_dirty))
		return 0;
	_Atomic(uint64_t) *bm = calloc((size_t)((m->total / 4096 + 63) / 64), sizeof(*bm));
	if (!bm)
		return -ENOMEM;
	atomic_store(&m->vmm_dirty, bm);
	return 0;
}

void guest_mem_mark_dirty(const struct guest_mem *m, const void *p, uint64_t len)
{
	_Atomic(uint64_t) *bm = atomic_load_explicit(&((struct guest_mem *)m)->vmm_dirty, memory_order_acquire);
	const uint8_t *b = p;
	if (!bm || !len || b < m->base || b >= m->base + m->total)
		return;
	uint64_t first = (uint64_t)(b - m->base) / 4096, off = (uint64_t)(b - m->base);
	uint64_t last = (len > m->total - off ? m->total - 1 : off + len - 1) / 4096;
	for (uint64_t pg = first; pg <= last; pg++)
		atomic_fetch_or_explicit(&bm[pg / 64], 1ull << (pg % 64), memory_order_relaxed);
}

bool guest_mem_take_dirty(const struct guest_mem *m, uint64_t page)
{
	_Atomic(uint64_t) *bm = atomic_load(&((struct guest_mem *)m)->vmm_dirty);
	if (!bm || page >= m->total / 4096)
		return false;
	uint64_t bit = 1ull << (page % 64);
	return atomic_fetch_and(&bm[page / 64], ~bit) & bit;
}

void guest_mem_clear_dirty(const struct guest_mem *m)
{
	_Atomic(uint64_t) *bm = atomic_load(&((struct guest_mem *)m)->vmm_dirty);
	for (uint64_t i = 0; bm && i < (m->total / 4096 + 63) / 64; i++)
		atomic_store(&bm[i], 0);
}

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		len = 1;
	for (int i = 0; i < m->nregions; i++) {
		const struct guest_region *r = &m->regions[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off >= r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

uint64_t guest_mem_low_end(const struct guest_mem *m)
{
	return m->nregions ? m->regions[0].size : 0;
}

int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, uint64_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}
