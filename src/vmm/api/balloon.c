/* PUT /balloon (before boot), PATCH /balloon (the target, any time), GET /balloon and
 * GET /balloon/statistics, in Firecracker's fields, over the virtio-balloon device's host
 * controls (../virtio/balloon.h). */
#include <string.h>

#include "../instance.h"
#include "../virtio/balloon.h"
#include "router.h"

/* The running VM's balloon device, or NULL. */
static struct virtio_mmio *balloon_dev(struct vmm_instance *in)
{
	if (!in->booted)
		return NULL;
	struct vm_device *d = vm_device_find(&in->vm.devices, "virtio-balloon");
	return d ? d->opaque : NULL;
}

static bool target_ok(struct vmm_instance *in, uint64_t mib, struct api_response *resp)
{
	uint64_t mem = vmm_instance_config(in)->memory_mib;
	if (mib > mem) {
		api_fault(resp, 400, "amount_mib %llu: more than the VM's %llu MiB", (unsigned long long)mib,
			  (unsigned long long)mem);
		return false;
	}
	return true;
}

void api_put_balloon(struct vmm_instance *in, const struct api_request *req, const char *id, struct api_response *resp)
{
	static const char *const fields[] = { "amount_mib", "deflate_on_oom", "stats_polling_interval_s", NULL };
	uint64_t mib, interval = 0;
	bool oom = false;
	(void)id;
	if (api_refuse_after_boot(in, "PUT /balloon", resp))
		return;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_uint(o, "amount_mib", UINT32_MAX >> 8, &mib, resp) < 0 || api_get_bool(o, "deflate_on_oom", &oom, resp) < 0 ||
	    api_get_uint(o, "stats_polling_interval_s", 3600, &interval, resp) < 0)
		goto out;
	if (oom) {
		api_fault(resp, 400, "deflate_on_oom: not offered by this balloon device (want false)");
		goto out;
	}
	if (!target_ok(in, mib, resp))
		goto out;
	struct vm_config c = in->cfg;
	c.balloon = true;
	cap_err err = { 0 };
	if (vm_config_validate(&c, &err) < 0) { /* one more virtio device must still fit */
		api_fault_err(resp, &err);
		goto out;
	}
	in->cfg.balloon = true;
	in->balloon_mib = mib;
	in->balloon_interval_s = (unsigned)interval;
	api_no_content(resp);
out:
	json_decref(o);
}

void api_patch_balloon(struct vmm_instance *in, const struct api_request *req, const char *id, struct api_response *resp)
{
	static const char *const fields[] = { "amount_mib", NULL };
	uint64_t mib;
	(void)id;
	if (!vmm_instance_config(in)->balloon) {
		api_fault(resp, 400, "PATCH /balloon: the VM has no balloon device (PUT /balloon before boot)");
		return;
	}
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_uint(o, "amount_mib", UINT32_MAX >> 8, &mib, resp) < 0 || !target_ok(in, mib, resp))
		goto out;
	in->balloon_mib = mib;
	struct virtio_mmio *t = balloon_dev(in);
	if (t)
		virtio_balloon_set_target(t, (uint32_t)(mib << 8));
	api_no_content(resp);
out:
	json_decref(o);
}

void api_get_balloon(struct vmm_instance *in, const struct api_request *req, const char *id, struct api_response *resp)
{
	(void)req, (void)id;
	if (!vmm_instance_config(in)->balloon) {
		api_fault(resp, 400, "GET /balloon: the VM has no balloon device");
		return;
	}
	api_json(resp, 200, json_pack("{s:I, s:b, s:i}", "amount_mib", (json_int_t)in->balloon_mib, "deflate_on_oom", 0,
				      "stats_polling_interval_s", (int)in->balloon_interval_s));
}

void api_get_balloon_statistics(struct vmm_instance *in, const struct api_request *req, const char *id,
				struct api_response *resp)
{
	/* Firecracker's names for the virtio stats tags */
	static const struct { int tag; const char *name; } tags[] = {
		{ VIRTIO_BALLOON_S_SWAP_IN, "swap_in" }, { VIRTIO_BALLOON_S_SWAP_OUT, "swap_out" },
		{ VIRTIO_BALLOON_S_MAJFLT, "major_faults" }, { VIRTIO_BALLOON_S_MINFLT, "minor_faults" },
		{ VIRTIO_BALLOON_S_MEMFREE, "free_memory" }, { VIRTIO_BALLOON_S_MEMTOT, "total_memory" },
		{ VIRTIO_BALLOON_S_AVAIL, "available_memory" }, { VIRTIO_BALLOON_S_CACHES, "disk_caches" },
		{ VIRTIO_BALLOON_S_HTLB_PGALLOC, "hugetlb_allocations" }, { VIRTIO_BALLOON_S_HTLB_PGFAIL, "hugetlb_failures" },
	};
	(void)req, (void)id;
	struct virtio_mmio *t = balloon_dev(in);
	if (!t) {
		api_fault(resp, 400, "GET /balloon/statistics: %s",
			  in->booted ? "the VM has no balloon device" : "the VM has not started yet");
		return;
	}
	uint64_t st[VIRTIO_BALLOON_S_NR] = { 0 };
	virtio_balloon_stats(t, st);
	uint32_t actual = virtio_balloon_actual(t);
	json_t *o = json_pack("{s:I, s:I, s:I, s:I}", "target_pages", (json_int_t)(in->balloon_mib << 8), "actual_pages",
			      (json_int_t)actual, "target_mib", (json_int_t)in->balloon_mib, "actual_mib",
			      (json_int_t)(actual >> 8));
	for (size_t i = 0; o && i < sizeof(tags) / sizeof(tags[0]); i++)
		json_object_set_new(o, tags[i].name, json_integer((json_int_t)st[tags[i].tag]));
	api_json(resp, 200, o);
}
