// fuzz-sources: src/vmm/api/conn.c src/vmm/api/router.c src/vmm/api/instance.c src/vmm/api/boot_source.c src/vmm/api/machine_config.c src/vmm/api/drives.c src/vmm/api/rate_limiter.c src/vmm/api/network.c src/vmm/api/vsock.c src/vmm/api/metrics.c src/vmm/api/snapshot.c src/vmm/api/balloon.c src/vmm/api/vm_config.c src/vmm/instance.c src/vmm/vcpu_stats.c src/vmm/virtio/balloon.c src/vmm/virtio/mmio.c src/vmm/virtio/queue.c src/vmm/memory.c src/vmm/config.c src/vmm/vm.c src/vmm/device.c src/vmm/vmstate.c src/lib/error.c src/lib/log.c src/lib/efd.c src/vmm/api/migrate.c src/vmm/bus.c src/vmm/ratelimit.c
// fuzz-seeds: tests/fuzz/seeds_api_http.c
/* libFuzzer target: the API's whole request path (conn.c's HTTP over libhttp-parser, the router,
 * every route's JSON handling and config.c's validator) on bytes from the input, fed in chunks
 * whose sizes come from the input too, to a fresh instance per input. The first byte also picks
 * whether the instance has "booted" (so the post-boot refusals run); the VM steps are ones that
 * refuse (no KVM, no files written). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/lib/log.h"
#include "../../src/vmm/api/conn.h"
#include "../../src/vmm/instance.h"

static int refuse(struct vmm_instance *in, cap_err *err)
{
	(void)in;
	return cap_errf_code(err, CAP_EXIT_USAGE, 0, "fuzz: no VM here");
}

static int refuse_snap(struct vmm_instance *in, const struct vm_snapshot_params *p, cap_err *err)
{
	(void)p;
	return refuse(in, err);
}

static int refuse_drive(struct vmm_instance *in, const char *id, const char *path, const struct rl_config *rl,
			cap_err *err)
{
	(void)id, (void)path, (void)rl;
	return refuse(in, err);
}

static int refuse_net(struct vmm_instance *in, const char *id, const struct rl_config *rx, const struct rl_config *tx,
		      cap_err *err)
{
	(void)id, (void)rx, (void)tx;
	return refuse(in, err);
}

static int no_files(struct vmm_instance *in, const char *path)
{
	(void)in, (void)path;
	return -EPERM;
}

static const struct vmm_ops fuzz_ops = {
	.boot = refuse,
	.pause = refuse,
	.resume = refuse,
	.ctrl_alt_del = refuse,
	.snapshot_create = refuse_snap,
	.snapshot_load = refuse_snap,
	.drive_update = refuse_drive,
	.net_update = refuse_net,
	.open_metrics = no_files,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_conn c;
	struct vmm_instance in;
	struct vm_config cfg;
	cap_err err = { 0 };

	if (size < 2)
		return 0;
	cap_log_set_level(CAP_LOG_QUIET);
	vm_config_init(&cfg);
	if (vmm_instance_init(&in, "fuzz", &cfg, NULL, &fuzz_ops, &err) < 0)
		abort();
	if (data[0] & 1)
		in.booted = in.created = true; /* a zeroed vm reads as created: the post-boot paths */
	size_t chunk = 1 + data[1] * 64u;
	data += 2;
	size -= 2;
	api_conn_init(&c, &in);
	while (size && !c.close_after && !c.failed) {
		size_t n = size < chunk ? size : chunk;
		api_conn_feed(&c, (const char *)data, n);
		data += n;
		size -= n;
	}
	if (!c.close_after)
		api_conn_eof(&c);
	api_conn_free(&c);
	vm_config_free(&in.vm.cfg);
	in.created = false;
	vmm_instance_free(&in);
	vm_config_free(&cfg);
	return 0;
}
