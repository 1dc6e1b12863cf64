/* PUT /migrate {"destination": "unix:PATH" | "tcp:HOST:PORT", "max_downtime_ms": N}: live-migrate
 * the running (or paused) VM to a `capsule vm receive` there (../migrate.h). The answer comes
 * once the destination runs the guest: 200 with the rounds, bytes and times; this VMM then stops
 * (exit status 0). Any failure answers 4xx/5xx and leaves the VM as it was. (Not a Firecracker
 * endpoint: Firecracker has no live migration.) */
#include "../instance.h"
#include "../migrate.h"
#include "router.h"

void api_put_migrate(struct vmm_instance *in, const struct api_request *req, const char *id, struct api_response *resp)
{
	static const char *const fields[] = { "destination", "max_downtime_ms", NULL };
	const char *dest;
	uint64_t downtime = MIGRATE_DEFAULT_DOWNTIME_MS;
	cap_err err = { 0 };
	(void)id;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_str(o, "destination", &dest, resp) < 0 || api_get_uint(o, "max_downtime_ms", 60000, &downtime, resp) < 0)
		goto out;
	enum vmm_state s = vmm_instance_state(in);
	if (s != VMM_RUNNING && s != VMM_PAUSED) {
		api_fault(resp, 400, "migrate: the VM is %s", s == VMM_NOT_STARTED ? "not started" : "stopping");
		goto out;
	}
	if (!in->ops->migrate) {
		api_fault(resp, 501, "migrate: this VMM cannot migrate");
		goto out;
	}
	struct vm_migrate_stats st;
	if (in->ops->migrate(in, dest, (unsigned)downtime, &st, &err) < 0) {
		api_fault_err(resp, &err);
		goto out;
	}
	api_json(resp, 200,
		 json_pack("{s:s, s:i, s:I, s:I, s:f, s:f}", "destination", dest, "rounds", st.rounds, "bytes",
			   (json_int_t)st.bytes, "final_bytes", (json_int_t)st.final_bytes, "total_ms", st.total_ms,
			   "downtime_ms", st.downtime_ms));
	/* The answer is written before the loop sees the stop (same callback, then the stop event). */
	vm_request_stop(&in->vm, VM_STOP_MIGRATED);
out:
	json_decref(o);
}
