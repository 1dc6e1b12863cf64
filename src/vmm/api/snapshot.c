/* PUT /snapshot/create and PUT /snapshot/load (Firecracker's fields), on the seam in
 * ../snapshot.h. Until this VMM has snapshots (the ops are empty) both answer 501. */
#include "../instance.h"
#include "router.h"

void api_put_snapshot_create(struct vmm_instance *in, const struct api_request *req, const char *id,
			     struct api_response *resp)
{
	(void)req, (void)id;
	if (!in->ops->snapshot_create) {
		api_fault(resp, 501, "PUT /snapshot/create: snapshots are not supported by this VMM yet");
		return;
	}
	api_fault(resp, 501, "PUT /snapshot/create: not wired yet");
}

void api_put_snapshot_load(struct vmm_instance *in, const struct api_request *req, const char *id,
			   struct api_response *resp)
{
	(void)req, (void)id;
	if (!in->ops->snapshot_load) {
		api_fault(resp, 501, "PUT /snapshot/load: snapshots are not supported by this VMM yet");
		return;
	}
	api_fault(resp, 501, "PUT /snapshot/load: not wired yet");
}
