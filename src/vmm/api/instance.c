/* The instance as a whole: GET / (what it is and its state), PATCH /vm (pause, resume) and
 * PUT /actions (InstanceStart, SendCtrlAltDel, FlushMetrics). */
#include <string.h>
#include <unistd.h>

#include "../instance.h"
#include "metrics.h"
#include "router.h"

#ifndef CAPSULE_VERSION
#define CAPSULE_VERSION "0.1.0"
#endif

void api_get_instance(struct vmm_instance *in, const struct api_request *req, const char *id,
		      struct api_response *resp)
{
	(void)req, (void)id;
	const struct vm_config *c = vmm_instance_config(in);
	uint64_t up = in->t_boot_ns ? (vm_now_ns() - in->t_boot_ns) / 1000000 : 0;
	/* Firecracker's InstanceInfo, and what `capsule vm ls` shows. */
	api_json(resp, 200,
		 json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:I}", "id", in->id, "state",
			   vmm_state_name(vmm_instance_state(in)), "vmm_version", CAPSULE_VERSION, "app_name", "capsule",
			   "pid", (int)getpid(), "vcpu_count", c->ncpus, "mem_size_mib", (json_int_t)c->memory_mib,
			   "uptime_ms", (json_int_t)up));
}

void api_patch_vm(struct vmm_instance *in, const struct api_request *req, const char *id, struct api_response *resp)
{
	static const char *const fields[] = { "state", NULL };
	const char *state;
	cap_err err = { 0 };
	(void)id;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_str(o, "state", &state, resp) < 0)
		goto out;
	int r;
	if (!strcmp(state, "Paused"))
		r = in->ops->pause(in, &err);
	else if (!strcmp(state, "Resumed"))
		r = in->ops->resume(in, &err);
	else {
		api_fault(resp, 400, "state '%.80s': want \"Paused\" or \"Resumed\"", state);
		goto out;
	}
	if (r < 0)
		api_fault_err(resp, &err);
	else
		api_no_content(resp);
out:
	json_decref(o);
}

void api_put_actions(struct vmm_instance *in, const struct api_request *req, const char *id,
		     struct api_response *resp)
{
	static const char *const fields[] = { "action_type", NULL };
	const char *action;
	cap_err err = { 0 };
	int r;
	(void)id;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_str(o, "action_type", &action, resp) < 0)
		goto out;
	if (!strcmp(action, "InstanceStart")) {
		r = in->ops->boot(in, &err);
	} else if (!strcmp(action, "SendCtrlAltDel")) {
		if (!in->booted) {
			api_fault(resp, 400, "SendCtrlAltDel: the VM has not started yet");
			goto out;
		}
		if (vmm_instance_state(in) != VMM_RUNNING) {
			api_fault(resp, 400, "SendCtrlAltDel: the VM is not running");
			goto out;
		}
		if (!in->ops->ctrl_alt_del) {
			api_fault(resp, 501, "SendCtrlAltDel: not supported by this VMM");
			goto out;
		}
		r = in->ops->ctrl_alt_del(in, &err);
	} else if (!strcmp(action, "FlushMetrics")) {
		r = api_metrics_flush(in, &err);
	} else {
		api_fault(resp, 400, "action_type '%.80s': want InstanceStart, SendCtrlAltDel or FlushMetrics", action);
		goto out;
	}
	if (r < 0)
		api_fault_err(resp, &err);
	else
		api_no_content(resp);
out:
	json_decref(o);
}
