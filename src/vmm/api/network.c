/* PUT /network-interfaces/{id}: a virtio-net device on a TAP interface, before boot. The TAP
 * name and MAC go through config.c's own parser (vm_config_add_net), as --net does; the rx_ and
 * tx_rate_limiter objects are --net's rx-bw=, tx-ops=... in Firecracker's shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../instance.h"
#include "router.h"

static void remove_net(struct vm_config *c, int i)
{
	free(c->nets[i].tap);
	free(c->nets[i].id);
	memmove(&c->nets[i], &c->nets[i + 1], (size_t)(c->nnets - i - 1) * sizeof(c->nets[0]));
	c->nnets--;
	memset(&c->nets[c->nnets], 0, sizeof(c->nets[0]));
}

void api_put_network_interface(struct vmm_instance *in, const struct api_request *req, const char *id,
			       struct api_response *resp)
{
	static const char *const fields[] = { "iface_id", "host_dev_name", "guest_mac", "rx_rate_limiter",
					      "tx_rate_limiter", NULL };
	const char *iface, *tap, *mac = NULL;
	struct vm_config c;
	cap_err err = { 0 };
	struct api_rate_limiter rx, tx;

	if (api_refuse_after_boot(in, "PUT /network-interfaces", resp))
		return;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_str(o, "iface_id", &iface, resp) < 0 || api_need_str(o, "host_dev_name", &tap, resp) < 0 ||
	    api_get_str(o, "guest_mac", &mac, resp) < 0 || api_get_rate_limiter(o, "rx_rate_limiter", &rx, resp) < 0 ||
	    api_get_rate_limiter(o, "tx_rate_limiter", &tx, resp) < 0)
		goto out;
	if (strcmp(iface, id)) {
		api_fault(resp, 400, "iface_id '%.80s' differs from the id in the path ('%s')", iface, id);
		goto out;
	}
	if (!*tap || strlen(tap) > 15 || strpbrk(tap, ",=/ ")) {
		api_fault(resp, 400, "interface %s: host_dev_name '%.80s' is not a TAP interface name (1 to 15 bytes, no ',', '=', '/' or space)",
			  id, tap);
		goto out;
	}
	if (vm_config_copy(&c, &in->cfg) < 0) {
		api_fault(resp, 500, "out of memory");
		goto out;
	}
	for (int i = 0; i < c.nnets; i++)
		if (c.nets[i].id && !strcmp(c.nets[i].id, id)) {
			remove_net(&c, i);
			break;
		}
	char spec[128];
	snprintf(spec, sizeof(spec), "tap=%s%s%.40s", tap, mac ? ",mac=" : "", mac ? mac : "");
	if (mac && strpbrk(mac, ",")) {
		api_fault(resp, 400, "interface %s: guest_mac '%.80s' is not a MAC address", id, mac);
		goto free;
	}
	if (vm_config_add_net(&c, spec, &err) < 0) {
		api_fault_err(resp, &err);
		goto free;
	}
	struct vm_net_config *n = &c.nets[c.nnets - 1];
	n->rx = rx.c;
	n->tx = tx.c;
	if (!(n->id = strdup(id))) {
		api_fault(resp, 500, "out of memory");
		goto free;
	}
	if (vm_config_validate(&c, &err) < 0) {
		api_fault_err(resp, &err);
		goto free;
	}
	vm_config_free(&in->cfg);
	in->cfg = c;
	api_no_content(resp);
	goto out;
free:
	vm_config_free(&c);
out:
	json_decref(o);
}

/* PATCH /network-interfaces/{id}: new rx/tx limits on the running VM's interface. A limiter the
 * body leaves out stays as it is, and so does a bucket a limiter leaves out (Firecracker's
 * partial update); a bucket with "size": 0 removes that limit. */
void api_patch_network_interface(struct vmm_instance *in, const struct api_request *req, const char *id,
				 struct api_response *resp)
{
	static const char *const fields[] = { "iface_id", "rx_rate_limiter", "tx_rate_limiter", NULL };
	const char *iface;
	struct api_rate_limiter rx, tx;
	cap_err err = { 0 };

	if (api_refuse_before_boot(in, "PATCH /network-interfaces", "PUT /network-interfaces sets the interface", resp))
		return;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_str(o, "iface_id", &iface, resp) < 0 || api_get_rate_limiter(o, "rx_rate_limiter", &rx, resp) < 0 ||
	    api_get_rate_limiter(o, "tx_rate_limiter", &tx, resp) < 0)
		goto out;
	if (strcmp(iface, id)) {
		api_fault(resp, 400, "iface_id '%.80s' differs from the id in the path ('%s')", iface, id);
		goto out;
	}
	const struct vm_config *c = vmm_instance_config(in);
	int i = vm_config_find_net(c, id);
	if (i < 0) {
		api_fault(resp, 400, "interface %s: no such network interface", id);
		goto out;
	}
	struct rl_config rxc = c->nets[i].rx, txc = c->nets[i].tx;
	api_rate_limiter_apply(&rx, &rxc);
	api_rate_limiter_apply(&tx, &txc);
	if (!in->ops->net_update)
		cap_errf_code(&err, CAP_EXIT_USAGE, 0, "interface %s: rate limits cannot change here", id);
	if (!in->ops->net_update || in->ops->net_update(in, id, &rxc, &txc, &err) < 0) {
		api_fault_err(resp, &err);
		goto out;
	}
	api_no_content(resp);
out:
	json_decref(o);
}
