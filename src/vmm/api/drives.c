/* PUT /drives/{id}: a virtio-blk disk before boot, in Firecracker's fields (rate_limiter as
 * --disk's bw=/iops=). The drive_id is the
 * disk's id (what the guest reads back as its serial), so a second PUT with the same id replaces
 * the disk; the root device becomes the first disk (/dev/vda, root=/dev/vda). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../instance.h"
#include "router.h"

#define DRIVE_ID_MAX 20 /* VIRTIO_BLK_ID_BYTES */

static void remove_disk(struct vm_config *c, int i)
{
	free(c->disks[i].path);
	free(c->disks[i].id);
	memmove(&c->disks[i], &c->disks[i + 1], (size_t)(c->ndisks - i - 1) * sizeof(c->disks[0]));
	c->ndisks--;
	memset(&c->disks[c->ndisks], 0, sizeof(c->disks[0]));
	if (i == 0 && c->root_disk)
		c->root_disk = false;
}

/* Only the values Firecracker takes as "nothing special" are accepted for what Capsule lacks. */
static int check_unsupported(json_t *o, struct api_response *resp)
{
	const char *s = NULL;
	json_t *v;
	if ((v = json_object_get(o, "partuuid")) && !json_is_null(v)) {
		api_fault(resp, 400, "partuuid: not supported (the root device is /dev/vda)");
		return -1;
	}
	if ((v = json_object_get(o, "socket")) && !json_is_null(v)) {
		api_fault(resp, 400, "socket: vhost-user drives are not supported");
		return -1;
	}
	if (api_get_str(o, "cache_type", &s, resp) < 0)
		return -1;
	if (s && strcmp(s, "Unsafe") && strcmp(s, "Writeback")) {
		api_fault(resp, 400, "cache_type '%.80s': want \"Unsafe\" or \"Writeback\"", s);
		return -1;
	}
	s = NULL;
	if (api_get_str(o, "io_engine", &s, resp) < 0)
		return -1;
	if (s && strcmp(s, "Sync") && strcmp(s, "Async")) {
		api_fault(resp, 400, "io_engine '%.80s': want \"Sync\" or \"Async\"", s);
		return -1;
	}
	return 0;
}

void api_put_drive(struct vmm_instance *in, const struct api_request *req, const char *id, struct api_response *resp)
{
	static const char *const fields[] = { "drive_id", "path_on_host", "is_root_device", "is_read_only", "partuuid",
					      "cache_type", "rate_limiter", "io_engine", "socket", NULL };
	const char *drive_id, *path;
	bool root = false, ro = false;
	struct api_rate_limiter rl;
	struct vm_config c;
	cap_err err = { 0 };

	if (api_refuse_after_boot(in, "PUT /drives", resp))
		return;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_str(o, "drive_id", &drive_id, resp) < 0 || api_need_str(o, "path_on_host", &path, resp) < 0 ||
	    api_get_bool(o, "is_root_device", &root, resp) < 0 || api_get_bool(o, "is_read_only", &ro, resp) < 0 ||
	    api_get_rate_limiter(o, "rate_limiter", &rl, resp) < 0 || check_unsupported(o, resp) < 0)
		goto out;
	if (strcmp(drive_id, id)) {
		api_fault(resp, 400, "drive_id '%.80s' differs from the id in the path ('%s')", drive_id, id);
		goto out;
	}
	if (strlen(id) > DRIVE_ID_MAX) {
		api_fault(resp, 400, "drive_id '%s': at most %d bytes (the guest reads it back as the disk's serial)", id,
			  DRIVE_ID_MAX);
		goto out;
	}
	if (!*path) {
		api_fault(resp, 400, "drive %s: path_on_host is empty", id);
		goto out;
	}
	if (access(path, ro ? R_OK : R_OK | W_OK) < 0) {
		api_fault(resp, 400, "drive %s: %.200s: %s", id, path, strerror(errno));
		goto out;
	}
	struct stat st;
	if (stat(path, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		api_fault(resp, 400, "drive %s: %.200s: not a regular file or block device", id, path);
		goto out;
	}
	if (vm_config_copy(&c, &in->cfg) < 0) {
		api_fault(resp, 500, "out of memory");
		goto out;
	}
	for (int i = 0; i < c.ndisks; i++)
		if (c.disks[i].id && !strcmp(c.disks[i].id, id)) {
			remove_disk(&c, i);
			break;
		}
	int r;
	if (root) {
		if (c.root_disk) {
			api_fault(resp, 400, "drive %s: drive '%s' is already the root device (a VM has one)", id,
				  c.disks[0].id ? c.disks[0].id : "disk0");
			goto free;
		}
		r = vm_config_set_root_disk(&c, path, &err);
	} else if (c.ndisks >= VM_MAX_DISKS) {
		r = cap_errf_code(&err, CAP_EXIT_USAGE, 0, "drive %s: at most %d disks", id, VM_MAX_DISKS);
	} else {
		r = (c.disks[c.ndisks].path = strdup(path)) ? 0 : cap_errf(&err, ENOMEM, "drive %s", id);
		if (r == 0)
			c.ndisks++;
	}
	struct vm_disk_config *d = root ? &c.disks[0] : &c.disks[c.ndisks - 1];
	if (r == 0 && !(d->id = strdup(id)))
		r = cap_errf(&err, ENOMEM, "drive %s", id);
	if (r == 0) {
		d->readonly = ro;
		d->rl = rl.c;
		r = vm_config_validate(&c, &err);
	}
	if (r < 0) {
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

/* PATCH /drives/{id} on the running VM: a new backing file (path_on_host: opened before the old
 * one is let go; the guest is told when the size changed) and / or new limits. A bucket the
 * rate_limiter leaves out stays as it is; "size": 0 removes that limit. */
void api_patch_drive(struct vmm_instance *in, const struct api_request *req, const char *id, struct api_response *resp)
{
	static const char *const fields[] = { "drive_id", "path_on_host", "rate_limiter", NULL };
	const char *drive_id, *path = NULL;
	struct api_rate_limiter rl;
	cap_err err = { 0 };

	if (api_refuse_before_boot(in, "PATCH /drives", "PUT /drives sets the drive", resp))
		return;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	int has_rl;
	if (api_need_str(o, "drive_id", &drive_id, resp) < 0 || api_get_str(o, "path_on_host", &path, resp) < 0 ||
	    (has_rl = api_get_rate_limiter(o, "rate_limiter", &rl, resp)) < 0)
		goto out;
	if (strcmp(drive_id, id)) {
		api_fault(resp, 400, "drive_id '%.80s' differs from the id in the path ('%s')", drive_id, id);
		goto out;
	}
	if (!path && !has_rl) {
		api_fault(resp, 400, "drive %s: nothing to change (give path_on_host, rate_limiter or both)", id);
		goto out;
	}
	if (path && !*path) {
		api_fault(resp, 400, "drive %s: path_on_host is empty", id);
		goto out;
	}
	const struct vm_config *c = vmm_instance_config(in);
	int i = vm_config_find_disk(c, id);
	if (i < 0) {
		api_fault(resp, 400, "drive %s: no such drive", id);
		goto out;
	}
	struct rl_config lim = c->disks[i].rl;
	api_rate_limiter_apply(&rl, &lim);
	if (!in->ops->drive_update)
		cap_errf_code(&err, CAP_EXIT_USAGE, 0, "drive %s: cannot change here", id);
	if (!in->ops->drive_update || in->ops->drive_update(in, id, path, has_rl ? &lim : NULL, &err) < 0) {
		api_fault_err(resp, &err);
		goto out;
	}
	api_no_content(resp);
out:
	json_decref(o);
}
