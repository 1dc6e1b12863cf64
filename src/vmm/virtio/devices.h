/* Constructors of the virtio devices. Each returns its transport (the device's own state hangs
 * off t->dev) or NULL with err filled; virtio_device_free() undoes one. */
#ifndef CAPSULE_VMM_VIRTIO_DEVICES_H
#define CAPSULE_VMM_VIRTIO_DEVICES_H

#include "../../lib/error.h"
#include "../vm.h"
#include "mmio.h"

struct virtio_mmio *virtio_rng_create(const struct guest_mem *mem, cap_err *err);
struct virtio_mmio *virtio_blk_create(const struct guest_mem *mem, const struct vm_disk_config *disk, cap_err *err);
struct virtio_mmio *virtio_net_create(const struct guest_mem *mem, const struct vm_net_config *net, cap_err *err);
/* New rate limits on a running device (the API's PATCH /drives, /network-interfaces), in force at
 * once: buckets start full, a queue waiting under the old limit goes on under the new one. A
 * zero config removes the limit. */
int virtio_blk_set_rate_limit(struct virtio_mmio *t, const struct rl_config *c, cap_err *err);
int virtio_net_set_rate_limits(struct virtio_mmio *t, const struct rl_config *rx, const struct rl_config *tx,
			       cap_err *err);
struct virtio_mmio *virtio_vsock_create(const struct guest_mem *mem, uint64_t guest_cid, const char *uds,
					cap_err *err);
struct virtio_mmio *virtio_balloon_create(struct guest_mem *mem, cap_err *err);
void virtio_device_free(struct virtio_mmio *t);

/* Create every virtio device cfg asks for on vm (after vm_create, before the kernel is loaded). */
int virtio_devices_create(struct vm *vm, const struct vm_config *cfg, cap_err *err);

#endif
