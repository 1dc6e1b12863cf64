#include "queue.h"

#include <errno.h>
#include <stdatomic.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "../../lib/log.h"

uint64_t virtq_desc_size(uint16_t num)
{
	return 16ULL * num;
}

uint64_t virtq_avail_size(uint16_t num)
{
	return 6ULL + 2ULL * num;	/* flags, idx, ring[num], used_event */
}

uint64_t virtq_used_size(uint16_t num)
{
	return 6ULL + 8ULL * num;	/* flags, idx, ring[num], avail_event */
}

void virtq_reset(struct virtq *q)
{
	const struct guest_mem *mem = q->mem;

	memset(q, 0, sizeof(*q));
	q->mem = mem;
}

int virtq_enable(struct virtq *q)
{
	uint16_t n = q->num;

	/* Split rings are power-of-two sized (2.7); the alignments are those of 2.7 table. */
	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	q->desc = guest_mem_ptr(q->mem, q->desc_gpa, virtq_desc_size(n));
	q->avail = guest_mem_ptr(q->mem, q->avail_gpa, virtq_avail_size(n));
	q->used = guest_mem_ptr(q->mem, q->used_gpa, virtq_used_size(n));
	if (!q->desc || !q->avail || !q->used) {
		q->desc = NULL;
		q->avail = NULL;
		q->used = NULL;
		return -EFAULT;
	}
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled_valid = false;
	q->broken = false;
	q->ready = true;
	return 0;
}

bool virtio_guest_warn_budget(void)
{
	static atomic_int n;
	return atomic_fetch_add(&n, 1) < 20;
}

static int broken(struct virtq *q, int err, const char *why)
{
	virtio_guest_warn("virtio: malformed virtqueue chain (%s): device needs reset", why);
	q->broken = true;
	return err;
}

static uint16_t load16(const volatile uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Walk the chain starting at head. Descriptors are copied before use, so the guest cannot
 * change one between its check and its use. A direct chain has at most num links and an
 * indirect table at most its own entry count: a longer walk is a loop. */
static int walk(struct virtq *q, struct virtq_chain *c, uint16_t head)
{
	const struct vring_desc *table = q->desc;
	uint32_t table_n = q->num, count = 0, idx = head;
	bool in_indirect = false;
	struct vring_desc d;

	c->head = head;
	c->nin = c->nout = 0;
	c->in_len = c->out_len = 0;
	for (;;) {
		if (++count > table_n)
			return broken(q, -ELOOP, "descriptor loop or chain longer than the queue");
		memcpy(&d, (const void *)&table[idx], sizeof(d));
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!q->indirect)
				return broken(q, -EINVAL, "indirect descriptor not negotiated");
			if (in_indirect)
				return broken(q, -EINVAL, "nested indirect descriptor");
			if (d.flags & VRING_DESC_F_NEXT)
				return broken(q, -EINVAL, "indirect descriptor with NEXT");
			if (d.len == 0 || d.len % sizeof(struct vring_desc) ||
			    d.len / sizeof(struct vring_desc) > VIRTQ_MAX_SEGS)
				return broken(q, -EINVAL, "bad indirect table length");
			table = guest_mem_ptr(q->mem, d.addr, d.len);
			if (!table)
				return broken(q, -EFAULT, "indirect table outside guest memory");
			table_n = d.len / sizeof(struct vring_desc);
			idx = 0;
			count = 0;
			in_indirect = true;
			continue;
		}
		void *p = guest_mem_ptr(q->mem, d.addr, d.len);
		if (!p)
			return broken(q, -EFAULT, "buffer outside guest memory");
		if (d.flags & VRING_DESC_F_WRITE) {
			if (c->nin >= VIRTQ_MAX_SEGS)
				return broken(q, -E2BIG, "too many buffers");
			/* the device may write it: a diff snapshot must carry it (KVM's log will not) */
			guest_mem_mark_dirty(q->mem, p, d.len);
			c->in[c->nin++] = (struct iovec){ p, d.len };
			c->in_len += d.len;
		} else {
			if (c->nin)
				return broken(q, -EINVAL, "device-readable buffer after a device-writable one");
			if (c->nout >= VIRTQ_MAX_SEGS)
				return broken(q, -E2BIG, "too many buffers");
			c->out[c->nout++] = (struct iovec){ p, d.len };
			c->out_len += d.len;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
		if (idx >= table_n)
			return broken(q, -EINVAL, "next index out of range");
	}
	if (c->in_len > UINT32_MAX || c->out_len > UINT32_MAX)
		return broken(q, -E2BIG, "chain longer than 4 GiB");
	return 1;
}

bool virtq_has_work(struct virtq *q)
{
	if (!q->ready || q->broken)
		return false;
	return load16(&q->avail->idx) != q->last_avail;
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	if (!q->ready || q->broken)
		return 0;
	uint16_t avail_idx = load16(&q->avail->idx);
	if (avail_idx == q->last_avail) {
		if (!q->event_idx)
			return 0;
		/* Going idle: ask for a kick at the next buffer, then look once more so a
		 * buffer published before the driver saw avail_event is not missed. */
		__atomic_store_n((uint16_t *)&q->used->ring[q->num], q->last_avail, __ATOMIC_RELAXED);
		guest_mem_mark_dirty(q->mem, q->used, virtq_used_size(q->num));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = load16(&q->avail->idx);
		if (avail_idx == q->last_avail)
			return 0;
	}
	if ((uint16_t)(avail_idx - q->last_avail) > q->num)
		return broken(q, -EINVAL, "available index ran ahead of the queue size");
	uint16_t head = __atomic_load_n(&q->avail->ring[q->last_avail % q->num], __ATOMIC_RELAXED);
	if (head >= q->num)
		return broken(q, -EINVAL, "head index out of range");
	q->last_avail++;
	return walk(q, c, head);
}

void virtq_unpop(struct virtq *q, uint16_t n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	if (!q->ready)
		return;
	struct vring_used_elem *e = &q->used->ring[q->used_idx % q->num];
	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, written, __ATOMIC_RELAXED);
	q->used_idx++;
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	guest_mem_mark_dirty(q->mem, q->used, virtq_used_size(q->num));
}

bool virtq_should_notify(struct virtq *q)
{
	if (!q->ready)
		return false;
	/* The used index store must be visible before we read the driver's suppression state. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(load16(&q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	uint16_t old = q->signalled_used, new = q->used_idx;
	bool valid = q->signalled_valid;
	q->signalled_used = new;
	q->signalled_valid = true;
	if (!valid)
		return true;
	uint16_t ev = load16(&q->avail->ring[q->num]);	/* used_event */
	return vring_need_event(ev, new, old);
}

/* One loop for both directions: to_buf copies iov -> buf, else buf -> iov. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t skip, uint8_t *buf, size_t len, bool to_buf)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - skip;
		if (k > len - done)
			k = len - done;
		uint8_t *p = (uint8_t *)iov[i].iov_base + skip;
		if (to_buf)
			memcpy(buf + done, p, k);
		else
			memcpy(p, buf + done, k);
		done += k;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, true);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf, size_t len)
{
	return iov_copy(iov, n, skip, (uint8_t *)buf, len, false);
}

int iov_slice(const struct iovec *src, unsigned n, uint64_t skip, uint64_t len, struct iovec *dst, unsigned max)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n && len; i++) {
		if (skip >= src[i].iov_len) {
			skip -= src[i].iov_len;
			continue;
		}
		uint64_t take = src[i].iov_len - skip;
		if (take > len)
			take = len;
		if (k >= max)
			return -1;
		dst[k++] = (struct iovec){ (uint8_t *)src[i].iov_base + skip, take };
		len -= take;
		skip = 0;
	}
	return (int)k;
}
