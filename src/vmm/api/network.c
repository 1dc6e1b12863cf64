/* PUT /network-interfaces/{id}: a virtio-net device on a TAP interface, before boot. The TAP
 * name and MAC go through config.c's own parser (vm_config_add_net), as --net does; the rx_ and
 * tx_rate_limiter objects are --net's rx-bw=, tx-ops=... in Firecracker's shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../instance.h"
#include "router.h"

static void remove_net(struct vm_config *c, char **ids, int i)
{
	free(c->nets[i].tap);
	free(ids[i]);
	memmove(&c->nets[i], &c->nets[i + 1], (size_t)(c->nnets - i - 1) * sizeof(c->nets[0]));
	memmove(&ids[i], &ids[i + 1], (size_t)(c->nnets - i - 1) * sizeof(ids[0]));
	c->nnets--;
	memset(&c->nets[c->nnets], 0, sizeof(c->nets[0]));
	ids[c->nnets] = NULL;
}

void api_put_network_interface(struct vmm_instance *in, const struct api_request *req, const char *id,
			       struct api_response *resp)
{
	static const char *const fields[] = { "iface_id", "host_dev_name", "guest_mac", "rx_rate_limiter",
					      "tx_rate_limiter", NULL };
	const char *iface, *tap, *mac = NULL;
	struct vm_config c;
	char *ids[VM_MAX_NETS] = { 0 };
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
		if (in->net_ids[i] && !(ids[i] = strdup(in->net_ids[i])))
			goto oom;
	for (int i = 0; i < c.nnets; i++)
		if (ids[i] && !strcmp(ids[i], id)) {
			remove_net(&c, ids, i);
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
	c.nets[c.nnets - 1].rx = rx.c;
	c.nets[c.nnets - 1].tx = tx.c;
	if (vm_config_validate(&c, &err) < 0) {
		api_fault_err(resp, &err);
		goto free;
	}
	if (!(ids[c.nnets - 1] = strdup(id)))
		goto oom;
	vm_config_free(&in->cfg);
	in->cfg = c;
	for (int i = 0; i < VM_MAX_NETS; i++) {
		free(in->net_ids[i]);
		in->net_ids[i] = ids[i];
	}
	api_no_content(resp);
	goto out;
oom:
	api_fault(resp, 500, "out of memory");
free:
	vm_config_free(&c);
	for (int i = 0; i < VM_MAX_NETS; i++)
		free(ids[i]);
out:
	json_decref(o);
}
