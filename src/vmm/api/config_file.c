/* --config-file vm.json: Firecracker's config-file shape, applied through the same routes as the
 * API's PUTs (each section's object is the body that route takes), so the file, the API and the
 * command line share one set of checks and messages. */
#include "config_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/json.h"
#include "../instance.h"
#include "router.h"

/* One section through its route; a refusal becomes "FILE: SECTION: fault". */
static int put(struct vmm_instance *in, const char *file, const char *section, api_handler *h, const char *path,
	       const char *id, json_t *body, cap_err *err)
{
	char *text = json_dumps(body, JSON_COMPACT);
	if (!text)
		return cap_errf(err, ENOMEM, "%s", file);
	struct api_request req = {
		.method = API_PUT, .method_name = "PUT", .path = path, .body = text, .body_len = strlen(text),
	};
	struct api_response resp = { 0 };
	h(in, &req, id, &resp);
	free(text);
	int r = 0;
	if (resp.status >= 300) {
		json_t *o = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
		const char *m = json_string_value(json_object_get(o, "fault_message"));
		r = cap_errf_code(err, resp.status < 500 ? CAP_EXIT_USAGE : CAP_EXIT_ERROR, 0, "%s: %s: %s", file, section,
				  m ? m : "refused");
		json_decref(o);
	}
	api_response_free(&resp);
	return r;
}

/* An array section: each element through the route, its id from id_key. */
static int put_each(struct vmm_instance *in, const char *file, json_t *arr, const char *section, api_handler *h,
		    const char *prefix, const char *id_key, cap_err *err)
{
	if (!json_is_array(arr))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: %s: must be an array", file, section);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		char where[64], path[160];
		snprintf(where, sizeof(where), "%s[%zu]", section, i);
		const char *id = json_string_value(json_object_get(v, id_key));
		if (!json_is_object(v) || !id)
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: %s: must be an object with a string %s", file,
					     where, id_key);
		if (strlen(id) > 64 || strchr(id, '/'))
			return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: %s: %s '%.80s' is not an id", file, where, id_key, id);
		snprintf(path, sizeof(path), "%s%s", prefix, id);
		int r = put(in, file, where, h, path, id, v, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int api_apply_config_file(struct vmm_instance *in, const char *file, cap_err *err)
{
	json_error_t je;
	json_t *root = cap_json_load_path(file, JSON_REJECT_DUPLICATES, &je);
	int r = 0;
	if (!root)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: %s (line %d)", file, je.text, je.line);
	if (!json_is_object(root)) {
		r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: must be a JSON object", file);
		goto out;
	}
	const char *key;
	json_t *v;
	/* In the file's order: each route checks its own part (the whole is checked again at boot);
	 * an unknown section is refused like an unknown field. */
	json_object_foreach(root, key, v) {
		if (json_is_null(v))
			continue;
		if (!strcmp(key, "boot-source"))
			r = put(in, file, key, api_put_boot_source, "/boot-source", NULL, v, err);
		else if (!strcmp(key, "machine-config"))
			r = put(in, file, key, api_put_machine_config, "/machine-config", NULL, v, err);
		else if (!strcmp(key, "drives"))
			r = put_each(in, file, v, key, api_put_drive, "/drives/", "drive_id", err);
		else if (!strcmp(key, "network-interfaces"))
			r = put_each(in, file, v, key, api_put_network_interface, "/network-interfaces/", "iface_id", err);
		else if (!strcmp(key, "vsock"))
			r = put(in, file, key, api_put_vsock, "/vsock", NULL, v, err);
		else if (!strcmp(key, "balloon"))
			r = put(in, file, key, api_put_balloon, "/balloon", NULL, v, err);
		else if (!strcmp(key, "metrics"))
			r = put(in, file, key, api_put_metrics, "/metrics", NULL, v, err);
		else if (!strcmp(key, "entropy") && json_is_object(v) && json_object_size(v) == 0)
			in->cfg.rng = true;
		else if (!strcmp(key, "logger") || !strcmp(key, "mmds-config") ||
			 !strcmp(key, "entropy") || !strcmp(key, "cpu-config"))
			r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: %s: not supported (only null%s)", file, key,
					  !strcmp(key, "entropy") ? " or {}" : "");
		else
			r = cap_errf_code(err, CAP_EXIT_USAGE, 0, "%s: unknown section '%.80s'", file, key);
		if (r < 0)
			break;
	}
out:
	json_decref(root);
	return r;
}
