/* PUT /vsock: the virtio-vsock device (guest CID, host Unix socket path), before boot. */
#include <stdlib.h>
#include <string.h>

#include "../instance.h"
#include "router.h"

void api_put_vsock(struct vmm_instance *in, const struct api_request *req, const char *id, struct api_response *resp)
{
	static const char *const fields[] = { "guest_cid", "uds_path", "vsock_id", NULL };
	const char *uds, *vid = NULL;
	uint64_t cid;
	cap_err err = { 0 };
	(void)id;

	if (api_refuse_after_boot(in, "PUT /vsock", resp))
		return;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_uint(o, "guest_cid", UINT32_MAX, &cid, resp) < 0 || api_need_str(o, "uds_path", &uds, resp) < 0 ||
	    api_get_str(o, "vsock_id", &vid, resp) < 0)
		goto out;
	/* A second PUT replaces the device, as in Firecracker. */
	struct vm_config c = in->cfg;
	c.vsock_uds = (char *)uds;
	c.vsock_cid = (uint32_t)cid;
	if (vm_config_validate(&c, &err) < 0) {
		api_fault_err(resp, &err);
		goto out;
	}
	char *u = strdup(uds), *v = vid ? strdup(vid) : NULL;
	if (!u || (vid && !v)) {
		free(u);
		free(v);
		api_fault(resp, 500, "out of memory");
		goto out;
	}
	free(in->cfg.vsock_uds);
	in->cfg.vsock_uds = u;
	in->cfg.vsock_cid = (uint32_t)cid;
	free(in->vsock_id);
	in->vsock_id = v;
	api_no_content(resp);
out:
	json_decref(o);
}
