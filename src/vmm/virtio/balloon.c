/* virtio-balloon (virtio 1.2, 5.5): inflated pages go back to the host with MADV_REMOVE on the
 * guest-RAM memfd mapping (the page cache pages are freed, not just unmapped), deflated ones
 * simply refault as zero pages. The statistics queue keeps the driver's buffer and returns it
 * when the host wants fresh numbers, as the specification describes. */
#include "balloon.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../lib/efd.h"
#include "../../lib/log.h"
#include "devices.h"

enum { Q_INFLATE, Q_DEFLATE, Q_STATS };
#define PAGE 4096ULL

struct balloon {
	struct virtio_mmio t;
	const struct guest_mem *mem;
	bool memfd_backed;
	uint64_t released;			/* pages given back, inflates minus deflates */
	uint64_t stats[VIRTIO_BALLOON_S_NR];
	bool stats_held;
	uint16_t stats_head;
	struct virtq_chain chain;
};

int64_t balloon_walk_pfns(const struct guest_mem *mem, const struct virtq_chain *c, balloon_range_fn fn,
			  void *opaque)
{
	uint8_t *run = NULL;
	uint64_t run_len = 0;
	int64_t pages = 0;
	uint32_t pfn = 0;
	unsigned have = 0;	/* bytes of pfn gathered: a PFN may straddle two buffers */

	if (c->out_len > BALLOON_MAX_PFNS * 4)
		return -E2BIG;
	/* One pass over the buffers: the chain is at most BALLOON_MAX_PFNS entries long. */
	for (unsigned i = 0; i < c->nout; i++) {
		const uint8_t *b = c->out[i].iov_base;
		for (size_t k = 0; k < c->out[i].iov_len; k++) {
			((uint8_t *)&pfn)[have++] = b[k];
			if (have < 4)
				continue;
			have = 0;
			uint8_t *p = guest_mem_ptr(mem, (uint64_t)pfn << VIRTIO_BALLOON_PFN_SHIFT, PAGE);
			if (!p)
				continue;
			pages++;
			if (run && p == run + run_len) {
				run_len += PAGE;
				continue;
			}
			if (run && fn)
				fn(opaque, run, run_len);
			run = p;
			run_len = PAGE;
		}
	}
	if (run && fn)
		fn(opaque, run, run_len);
	return pages;
}

int balloon_parse_stats(const struct virtq_chain *c, uint64_t stats[VIRTIO_BALLOON_S_NR])
{
	struct __attribute__((packed)) {
		uint16_t tag;
		uint64_t val;
	} s;
	unsigned have = 0;
	int n = 0;

	if (c->out_len % sizeof(s))
		return -EINVAL;
	if (c->out_len > BALLOON_MAX_STATS * sizeof(s))
		return -E2BIG;
	for (unsigned i = 0; i < c->nout; i++) {
		const uint8_t *b = c->out[i].iov_base;
		for (size_t k = 0; k < c->out[i].iov_len; k++) {
			((uint8_t *)&s)[have++] = b[k];
			if (have < sizeof(s))
				continue;
			have = 0;
			n++;
			if (s.tag < VIRTIO_BALLOON_S_NR)
				stats[s.tag] = s.val;
		}
	}
	return n;
}

static void release_range(void *opaque, void *host, uint64_t bytes)
{
	struct balloon *b = opaque;
	/* The pages change (to zeroes) behind KVM's dirty log: a diff snapshot must carry them. */
	guest_mem_mark_dirty(b->mem, host, bytes);
	/* MADV_REMOVE frees the memfd's pages. A plain buffer (unit tests, fuzzers) is not ours to
	 * unmap, and RAM restored copy-on-write from a snapshot's file would fall back to the file's
	 * bytes: both get what the guest must see, zeroes. */
	if (!b->memfd_backed || b->mem->cow) {
		memset(host, 0, bytes);
		return;
	}
	if (madvise(host, bytes, MADV_REMOVE) < 0)
		cap_debug("virtio-balloon: madvise: %s", strerror(errno));
}

static void balloon_notify(struct virtio_mmio *t, unsigned q)
{
	struct balloon *b = t->dev;
	bool pushed = false;
	uint64_t budget = BALLOON_PFNS_PER_PASS;

	while (budget && virtio_mmio_pop(t, q, &b->chain) > 0) {
		if (q == Q_INFLATE || q == Q_DEFLATE) {
			int64_t n = balloon_walk_pfns(b->mem, &b->chain, q == Q_INFLATE ? release_range : NULL, b);
			if (n < 0) {
				virtio_guest_warn("virtio-balloon: PFN array over %u entries: device needs reset",
						  BALLOON_MAX_PFNS);
				virtio_mmio_set_needs_reset(t);
				break;
			}
			if (q == Q_INFLATE)
				b->released += (uint64_t)n;
			else
				b->released -= (uint64_t)n < b->released ? (uint64_t)n : b->released;
			uint64_t walked = b->chain.out_len / 4;
			budget -= walked < budget ? walked : budget;
		} else {
			int n = balloon_parse_stats(&b->chain, b->stats);
			if (n == -E2BIG) {
				virtio_guest_warn("virtio-balloon: stats buffer over %u entries: device needs reset",
						  BALLOON_MAX_STATS);
				virtio_mmio_set_needs_reset(t);
				break;
			}
			if (n < 0)
				cap_debug("virtio-balloon: malformed stats buffer");
			if (b->stats_held) /* a second buffer: give the older one back */
				virtq_push(&t->vq[Q_STATS], b->stats_head, 0);
			b->stats_head = b->chain.head;
			b->stats_held = true;
			continue;
		}
		virtq_push(&t->vq[q], b->chain.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_mmio_signal(t, q);
	/* Budget spent with chains left: go round the I/O loop (other devices, a stop request)
	 * and come back through our own kick eventfd. */
	if (!budget && virtq_has_work(&t->vq[q]))
		efd_signal(t->kick[q].fd);
}

static void balloon_reset(struct virtio_mmio *t)
{
	struct balloon *b = t->dev;
	b->stats_held = false;
	/* Deflated implicitly: the guest owns every page again and will fault them back. */
	b->released = 0;
	memset(t->config + offsetof(struct virtio_balloon_config, actual), 0, 4);
}

static void balloon_config_write(struct virtio_mmio *t, uint32_t off, const uint8_t *data, uint32_t len)
{
	/* Only `actual` is the driver's to write. */
	uint32_t lo = offsetof(struct virtio_balloon_config, actual);
	if (off >= lo && off + len <= lo + 4)
		memcpy(t->config + off, data, len);
}

static int balloon_save(struct virtio_mmio *t, struct vmstate_out *out)
{
	struct balloon *b = t->dev;
	uint8_t st[VIRTIO_BALLOON_S_NR * 8];
	for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++)
		for (unsigned k = 0; k < 8; k++)
			st[i * 8 + k] = (uint8_t)(b->stats[i] >> (8 * k));
	vmstate_put_u64(out, "balloon.released", b->released);
	vmstate_put_bytes(out, "balloon.stats", st, sizeof(st));
	vmstate_put_bool(out, "balloon.stats_held", b->stats_held);
	return vmstate_put_u16(out, "balloon.stats_head", b->stats_head);
}

static int balloon_restore(struct virtio_mmio *t, const struct vmstate_in *in)
{
	struct balloon *b = t->dev;
	uint8_t st[VIRTIO_BALLOON_S_NR * 8];
	uint64_t released;
	size_t n;
	bool held;
	uint16_t head;
	int r;
	if ((r = vmstate_get_u64(in, "balloon.released", &released)) < 0 ||
	    (r = vmstate_get_bytes(in, "balloon.stats", st, sizeof(st), &n)) < 0 ||
	    (r = vmstate_get_bool(in, "balloon.stats_held", &held)) < 0 ||
	    (r = vmstate_get_u16(in, "balloon.stats_head", &head)) < 0)
		return r;
	/* the held buffer is given back to the driver later: it must be one of the queue's */
	if (n != sizeof(st) || released > b->mem->total / PAGE || (held && head >= t->vq[Q_STATS].num))
		return -EINVAL;
	b->released = released;
	for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++) {
		b->stats[i] = 0;
		for (unsigned k = 0; k < 8; k++)
			b->stats[i] |= (uint64_t)st[i * 8 + k] << (8 * k);
	}
	b->stats_held = held;
	b->stats_head = head;
	return 0;
}

static void balloon_destroy(struct virtio_mmio *t)
{
	struct balloon *b = t->dev;
	virtio_mmio_destroy(t);
	free(b);
}

static const struct virtio_dev_ops balloon_ops = {
	.name = "balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.features = 1ULL << VIRTIO_BALLOON_F_STATS_VQ,
	.nqueues = 3,
	.notify = balloon_notify,
	.reset = balloon_reset,
	.config_write = balloon_config_write,
	.save = balloon_save,
	.restore = balloon_restore,
	.destroy = balloon_destroy,
};

struct virtio_mmio *virtio_balloon_create(struct guest_mem *mem, cap_err *err)
{
	struct balloon *b = calloc(1, sizeof(*b));

	if (!b) {
		cap_errf(err, ENOMEM, "virtio-balloon");
		return NULL;
	}
	virtio_mmio_init(&b->t, &balloon_ops, b, mem);
	b->mem = mem;
	b->memfd_backed = mem->memfd >= 0;
	b->t.config_len = sizeof(struct virtio_balloon_config);
	return &b->t;
}

void virtio_balloon_set_target(struct virtio_mmio *t, uint32_t pages)
{
	pthread_mutex_lock(&t->lock);
	memcpy(t->config + offsetof(struct virtio_balloon_config, num_pages), &pages, 4);
	virtio_mmio_config_changed(t);
	pthread_mutex_unlock(&t->lock);
}

uint32_t virtio_balloon_actual(struct virtio_mmio *t)
{
	uint32_t v;
	pthread_mutex_lock(&t->lock);
	memcpy(&v, t->config + offsetof(struct virtio_balloon_config, actual), 4);
	pthread_mutex_unlock(&t->lock);
	return v;
}

uint64_t virtio_balloon_released(struct virtio_mmio *t)
{
	struct balloon *b = t->dev;
	pthread_mutex_lock(&t->lock);
	uint64_t v = b->released;
	pthread_mutex_unlock(&t->lock);
	return v;
}

void virtio_balloon_stats(struct virtio_mmio *t, uint64_t out[VIRTIO_BALLOON_S_NR])
{
	struct balloon *b = t->dev;
	pthread_mutex_lock(&t->lock);
	memcpy(out, b->stats, sizeof(b->stats));
	if (b->stats_held && virtio_mmio_live(t)) {
		b->stats_held = false;
		virtq_push(&t->vq[Q_STATS], b->stats_head, 0);
		virtio_mmio_signal(t, Q_STATS);
	}
	pthread_mutex_unlock(&t->lock);
}
