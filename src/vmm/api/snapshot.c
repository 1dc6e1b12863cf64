/* PUT /snapshot/create and PUT /snapshot/load in Firecracker's fields, on the seam in
 * ../snapshot.h (through the instance's ops). Create needs a paused VM; load needs a VMM that
 * has not started one. A VMM built without snapshots (no ops) answers 501. */
#include <string.h>

#include "../instance.h"
#include "../snapshot.h"
#include "router.h"

void api_put_snapshot_create(struct vmm_instance *in, const struct api_request *req, const char *id,
			     struct api_response *resp)
{
	static const char *const fields[] = { "snapshot_type", "snapshot_path", "mem_file_path", "version", NULL };
	const char *type = NULL, *state, *mem, *version = NULL;
	cap_err err = { 0 };
	(void)id;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_get_str(o, "snapshot_type", &type, resp) < 0 || api_need_str(o, "snapshot_path", &state, resp) < 0 ||
	    api_need_str(o, "mem_file_path", &mem, resp) < 0 || api_get_str(o, "version", &version, resp) < 0)
		goto out;
	if (type && strcmp(type, "Full") && strcmp(type, "Diff")) {
		api_fault(resp, 400, "snapshot_type '%.80s': want \"Full\" or \"Diff\"", type);
		goto out;
	}
	if (!*state || !*mem) {
		api_fault(resp, 400, "snapshot/create: %s is empty", !*state ? "snapshot_path" : "mem_file_path");
		goto out;
	}
	enum vmm_state s = vmm_instance_state(in);
	if (s != VMM_PAUSED) {
		api_fault(resp, 400, "snapshot/create: the VM is %s; pause it first (PATCH /vm {\"state\": \"Paused\"})",
			  s == VMM_RUNNING ? "running" : s == VMM_NOT_STARTED ? "not started" : "stopping");
		goto out;
	}
	bool diff = type && !strcmp(type, "Diff");
	if (diff && !in->track_dirty_pages) {
		api_fault(resp, 400, "snapshot/create: a Diff snapshot needs track_dirty_pages (PUT /machine-config before boot)");
		goto out;
	}
	if (!in->ops->snapshot_create) {
		api_fault(resp, 501, "snapshot/create: this VMM has no snapshots");
		goto out;
	}
	struct vm_snapshot_params p = { .state_path = state, .mem_path = mem, .diff = diff, .resume = false };
	if (in->ops->snapshot_create(in, &p, &err) < 0)
		api_fault_err(resp, &err);
	else
		api_no_content(resp);
out:
	json_decref(o);
}

void api_put_snapshot_load(struct vmm_instance *in, const struct api_request *req, const char *id,
			   struct api_response *resp)
{
	static const char *const fields[] = { "snapshot_path", "mem_file_path", "mem_backend", "enable_diff_snapshots",
					      "track_dirty_pages", "resume_vm", NULL };
	static const char *const backend_fields[] = { "backend_type", "backend_path", NULL };
	const char *state, *mem = NULL, *btype = NULL, *bpath = NULL;
	bool diff = false, dirty = false, resume = false;
	cap_err err = { 0 };
	(void)id;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_str(o, "snapshot_path", &state, resp) < 0 || api_get_str(o, "mem_file_path", &mem, resp) < 0 ||
	    api_get_bool(o, "enable_diff_snapshots", &diff, resp) < 0 ||
	    api_get_bool(o, "track_dirty_pages", &dirty, resp) < 0 || api_get_bool(o, "resume_vm", &resume, resp) < 0)
		goto out;
	json_t *b = json_object_get(o, "mem_backend");
	if (b && !json_is_null(b)) {
		if (!json_is_object(b)) {
			api_fault(resp, 400, "mem_backend: must be an object");
			goto out;
		}
		const char *key;
		json_t *v;
		json_object_foreach(b, key, v) {
			size_t k = 0;
			while (backend_fields[k] && strcmp(backend_fields[k], key))
				k++;
			if (!backend_fields[k]) {
				api_fault(resp, 400, "mem_backend: unknown field '%.80s'", key);
				goto out;
			}
		}
		if (api_need_str(b, "backend_type", &btype, resp) < 0 || api_need_str(b, "backend_path", &bpath, resp) < 0)
			goto out;
		if (strcmp(btype, "File")) {
			api_fault(resp, 400, "mem_backend.backend_type '%.80s': only \"File\" is supported", btype);
			goto out;
		}
	}
	if (!mem == !bpath) {
		api_fault(resp, 400, "snapshot/load: give the memory file as mem_backend (or the older mem_file_path), once");
		goto out;
	}
	if (!mem)
		mem = bpath;
	if (!*state || !*mem) {
		api_fault(resp, 400, "snapshot/load: %s is empty", !*state ? "snapshot_path" : "the memory file path");
		goto out;
	}
	if (in->booted || in->created) {
		api_fault(resp, 400, "snapshot/load: a VM already runs in this VMM (load into a fresh one)");
		goto out;
	}
	if (!in->ops->snapshot_load) {
		api_fault(resp, 501, "snapshot/load: this VMM has no snapshots");
		goto out;
	}
	in->track_dirty_pages = dirty || diff;
	struct vm_snapshot_params p = { .state_path = state, .mem_path = mem, .resume = resume };
	if (in->ops->snapshot_load(in, &p, &err) < 0)
		api_fault_err(resp, &err);
	else
		api_no_content(resp);
out:
	json_decref(o);
}
