/* virtio-rng (virtio 1.2, 5.4): one request queue whose writable buffers are filled from
 * getrandom(). */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <sys/random.h>

#include "devices.h"

#define RNG_MAX_PER_CHAIN 65536	/* bound one request's work; the driver asks again */

struct rng {
	struct virtio_mmio t;
	struct virtq_chain chain;
};

/* Fill the writable buffers; returns the bytes written. */
static uint32_t fill(struct virtq_chain *c)
{
	uint64_t want = c->in_len < RNG_MAX_PER_CHAIN ? c->in_len : RNG_MAX_PER_CHAIN;
	uint32_t done = 0;

	for (unsigned i = 0; i < c->nin && done < want; i++) {
		uint8_t *p = c->in[i].iov_base;
		size_t len = c->in[i].iov_len;
		if (len > want - done)
			len = want - done;
		while (len) {
			ssize_t n = getrandom(p, len, 0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return done;
			}
			p += n;
			len -= (size_t)n;
			done += (uint32_t)n;
		}
	}
	return done;
}

static void rng_notify(struct virtio_mmio *t, unsigned qi)
{
	struct rng *r = t->dev;
	int n = 0;

	while (virtio_mmio_pop(t, qi, &r->chain) > 0) {
		virtq_push(&t->vq[qi], r->chain.head, fill(&r->chain));
		n++;
	}
	if (n)
		virtio_mmio_signal(t, qi);
}

static void rng_destroy(struct virtio_mmio *t)
{
	struct rng *r = t->dev;

	virtio_mmio_destroy(t);
	free(r);
}

/* No state of its own: requests are answered as they are popped. */
static int rng_save(struct virtio_mmio *t, struct vmstate_out *out)
{
	(void)t;
	(void)out;
	return 0;
}

static int rng_restore(struct virtio_mmio *t, const struct vmstate_in *in)
{
	(void)t;
	(void)in;
	return 0;
}

static const struct virtio_dev_ops rng_ops = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.nqueues = 1,
	.notify = rng_notify,
	.save = rng_save,
	.restore = rng_restore,
	.destroy = rng_destroy,
};

struct virtio_mmio *virtio_rng_create(const struct guest_mem *mem, cap_err *err)
{
	struct rng *r = calloc(1, sizeof(*r));

	if (!r) {
		cap_errf(err, ENOMEM, "virtio-rng");
		return NULL;
	}
	virtio_mmio_init(&r->t, &rng_ops, r, mem);
	return &r->t;
}
