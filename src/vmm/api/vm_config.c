/* GET /vm/config: the whole configuration in Firecracker's config-file shape. */
#include <stdio.h>

#include "../instance.h"
#include "router.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *drives_json(const struct vm_config *c)
{
	json_t *a = json_array();
	for (int i = 0; i < c->ndisks; i++) {
		char name[32];
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:b, s:n, s:s, s:o, s:s}", "drive_id",
						   vm_config_disk_id(c, i, name, sizeof(name)), "path_on_host", c->disks[i].path,
						   "is_root_device", c->root_disk && i == 0, "is_read_only",
						   c->disks[i].readonly, "partuuid", "cache_type", "Unsafe", "rate_limiter",
						   api_rate_limiter_json(&c->disks[i].rl), "io_engine", "Async"));
	}
	return a;
}

static json_t *nets_json(const struct vm_config *c)
{
	json_t *a = json_array();
	for (int i = 0; i < c->nnets; i++) {
		char name[32], mac[18];
		const uint8_t *m = c->nets[i].mac;
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o, s:o}", "iface_id",
						   vm_config_net_id(c, i, name, sizeof(name)), "host_dev_name",
						   c->nets[i].tap, "guest_mac", c->nets[i].has_mac ? json_string(mac) : json_null(),
						   "rx_rate_limiter", api_rate_limiter_json(&c->nets[i].rx), "tx_rate_limiter",
						   api_rate_limiter_json(&c->nets[i].tx)));
	}
	return a;
}

void api_get_vm_config(struct vmm_instance *in, const struct api_request *req, const char *id,
		       struct api_response *resp)
{
	(void)req, (void)id;
	const struct vm_config *c = vmm_instance_config(in);
	json_t *vsock = c->vsock_uds ? json_pack("{s:I, s:s}", "guest_cid", (json_int_t)c->vsock_cid, "uds_path", c->vsock_uds)
				     : json_null();
	if (vsock && c->vsock_uds && in->vsock_id)
		json_object_set_new(vsock, "vsock_id", json_string(in->vsock_id));
	json_t *o = json_pack("{s:{s:o, s:o, s:o}, s:{s:i, s:I, s:b, s:b}, s:o, s:o, s:o, s:o, s:o, s:n, s:o, s:n}",
			      "boot-source", "kernel_image_path", str_or_null(c->kernel), "boot_args",
			      str_or_null(c->cmdline), "initrd_path", str_or_null(c->initrd), "machine-config",
			      "vcpu_count", c->ncpus, "mem_size_mib", (json_int_t)c->memory_mib, "smt", 0,
			      "track_dirty_pages", in->track_dirty_pages, "drives", drives_json(c),
			      "network-interfaces", nets_json(c), "vsock", vsock, "balloon",
			      c->balloon ? json_pack("{s:I, s:b, s:i}", "amount_mib", (json_int_t)in->balloon_mib, "deflate_on_oom", 0,
						     "stats_polling_interval_s", (int)in->balloon_interval_s)
				 : json_null(),
			      "entropy", c->rng ? json_object() : json_null(), "logger", "metrics",
			      in->metrics_path ? json_pack("{s:s}", "metrics_path", in->metrics_path) : json_null(),
			      "mmds-config");
	api_json(resp, 200, o);
}
