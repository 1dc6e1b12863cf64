/* PUT /boot-source: the kernel, its command line and an initrd, before boot. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../instance.h"
#include "router.h"

void api_put_boot_source(struct vmm_instance *in, const struct api_request *req, const char *id,
			 struct api_response *resp)
{
	static const char *const fields[] = { "kernel_image_path", "boot_args", "initrd_path", NULL };
	const char *kernel = NULL, *args = NULL, *initrd = NULL;
	struct vm_config c;
	cap_err err = { 0 };
	(void)id;
	if (api_refuse_after_boot(in, "PUT /boot-source", resp))
		return;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_str(o, "kernel_image_path", &kernel, resp) < 0 || api_get_str(o, "boot_args", &args, resp) < 0 ||
	    api_get_str(o, "initrd_path", &initrd, resp) < 0)
		goto out;
	/* Firecracker opens the files here: a wrong path is this request's fault, not the boot's. */
	if (*kernel && access(kernel, R_OK) < 0) {
		api_fault(resp, 400, "kernel_image_path %.200s: %s", kernel, strerror(errno));
		goto out;
	}
	if (initrd && *initrd && access(initrd, R_OK) < 0) {
		api_fault(resp, 400, "initrd_path %.200s: %s", initrd, strerror(errno));
		goto out;
	}
	/* A whole new boot source replaces the old one, checked by the one validator first. */
	if (vm_config_copy(&c, &in->cfg) < 0) {
		api_fault(resp, 500, "out of memory");
		goto out;
	}
	if (vm_config_set_string(&c.kernel, kernel, &err) < 0 || vm_config_set_string(&c.cmdline, args, &err) < 0 ||
	    vm_config_set_string(&c.initrd, initrd, &err) < 0 || vm_config_validate(&c, &err) < 0) {
		api_fault_err(resp, &err);
		vm_config_free(&c);
		goto out;
	}
	vm_config_free(&in->cfg);
	in->cfg = c;
	api_no_content(resp);
out:
	json_decref(o);
}
