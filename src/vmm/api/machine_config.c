/* GET, PUT and PATCH /machine-config: vCPUs and memory (before boot), in Firecracker's fields.
 * PUT sets the whole machine (vcpu_count and mem_size_mib required), PATCH only what it names;
 * both go through config.c's validator. */
#include <string.h>

#include "../boot/boot.h"
#include "../instance.h"
#include "router.h"

static json_t *machine_json(const struct vmm_instance *in)
{
	const struct vm_config *c = vmm_instance_config(in);
	return json_pack("{s:i, s:I, s:b, s:b}", "vcpu_count", c->ncpus, "mem_size_mib", (json_int_t)c->memory_mib, "smt",
			 0, "track_dirty_pages", in->track_dirty_pages);
}

void api_get_machine_config(struct vmm_instance *in, const struct api_request *req, const char *id,
			    struct api_response *resp)
{
	(void)req, (void)id;
	api_json(resp, 200, machine_json(in));
}

static void set_machine(struct vmm_instance *in, const struct api_request *req, bool whole, struct api_response *resp)
{
	static const char *const fields[] = { "vcpu_count", "mem_size_mib", "smt", "track_dirty_pages", "cpu_template",
					      "huge_pages", NULL };
	uint64_t vcpus = 0, mib = 0;
	bool smt = false, dirty = in->track_dirty_pages;
	const char *tmpl = NULL, *huge = NULL;
	int have_vcpus, have_mib;
	cap_err err = { 0 };

	if (api_refuse_after_boot(in, whole ? "PUT /machine-config" : "PATCH /machine-config", resp))
		return;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (whole) {
		have_vcpus = api_need_uint(o, "vcpu_count", BOOT_MAX_CPUS, &vcpus, resp);
		have_mib = have_vcpus < 0 ? -1 : api_need_uint(o, "mem_size_mib", UINT32_MAX, &mib, resp);
	} else {
		have_vcpus = api_get_uint(o, "vcpu_count", BOOT_MAX_CPUS, &vcpus, resp);
		have_mib = have_vcpus < 0 ? -1 : api_get_uint(o, "mem_size_mib", UINT32_MAX, &mib, resp);
	}
	if (have_vcpus < 0 || have_mib < 0 || api_get_bool(o, "smt", &smt, resp) < 0 ||
	    api_get_bool(o, "track_dirty_pages", &dirty, resp) < 0 || api_get_str(o, "cpu_template", &tmpl, resp) < 0 ||
	    api_get_str(o, "huge_pages", &huge, resp) < 0)
		goto out;
	if (smt) {
		api_fault(resp, 400, "smt: simultaneous multithreading is not offered to guests (want false)");
		goto out;
	}
	if (tmpl && strcmp(tmpl, "None")) {
		api_fault(resp, 400, "cpu_template '%.80s': no CPU templates (want \"None\")", tmpl);
		goto out;
	}
	if (huge && strcmp(huge, "None")) {
		api_fault(resp, 400, "huge_pages '%.80s': guest memory is not backed by huge pages (want \"None\")", huge);
		goto out;
	}
	struct vm_config c = in->cfg; /* only the two numbers change: a shallow copy is enough to check */
	if (have_vcpus)
		c.ncpus = (int)vcpus;
	if (have_mib)
		c.memory_mib = mib;
	if (vm_config_validate(&c, &err) < 0) {
		api_fault_err(resp, &err);
		goto out;
	}
	in->cfg.ncpus = c.ncpus;
	in->cfg.memory_mib = c.memory_mib;
	in->track_dirty_pages = dirty;
	api_no_content(resp);
out:
	json_decref(o);
}

void api_put_machine_config(struct vmm_instance *in, const struct api_request *req, const char *id,
			    struct api_response *resp)
{
	(void)id;
	set_machine(in, req, true, resp);
}

void api_patch_machine_config(struct vmm_instance *in, const struct api_request *req, const char *id,
			      struct api_response *resp)
{
	(void)id;
	set_machine(in, req, false, resp);
}
