/* The route table (Firecracker's paths) and the helpers every route uses to read its JSON body
 * and to answer. A request that matches no path is a 404; a known path with another method a
 * 405 with Allow. Bodies are JSON objects whose every key the route knows: an unknown field,
 * a duplicate key or a wrong type is a 400 that names it, as Firecracker refuses them. */
#include "router.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../instance.h"

struct route {
	const char *path;          /* exact, or the prefix before "{id}" when with_id */
	bool with_id;
	api_handler *get, *put, *patch;
};

static const struct route routes[] = {
	{ "/", false, api_get_instance, NULL, NULL },
	{ "/vm", false, NULL, NULL, api_patch_vm },
	{ "/vm/config", false, api_get_vm_config, NULL, NULL },
	{ "/actions", false, NULL, api_put_actions, NULL },
	{ "/boot-source", false, NULL, api_put_boot_source, NULL },
	{ "/machine-config", false, api_get_machine_config, api_put_machine_config, api_patch_machine_config },
	{ "/drives/", true, NULL, api_put_drive, api_patch_drive },
	{ "/network-interfaces/", true, NULL, api_put_network_interface, api_patch_network_interface },
	{ "/vsock", false, NULL, api_put_vsock, NULL },
	{ "/balloon", false, api_get_balloon, api_put_balloon, api_patch_balloon },
	{ "/balloon/statistics", false, api_get_balloon_statistics, NULL, NULL },
	{ "/metrics", false, api_get_metrics, api_put_metrics, NULL },
	{ "/snapshot/create", false, NULL, api_put_snapshot_create, NULL },
	{ "/snapshot/load", false, NULL, api_put_snapshot_load, NULL },
	{ "/migrate", false, NULL, api_put_migrate, NULL },
};

#define ID_MAX 64

/* An {id} path part: 1..ID_MAX of [A-Za-z0-9_-] (what Firecracker's ids allow, and no '/'). */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > ID_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

static const char *allow_of(const struct route *r)
{
	if (r->get && r->put && r->patch)
		return "GET, PUT, PATCH";
	if (r->get && r->put)
		return "GET, PUT";
	if (r->put && r->patch)
		return "PUT, PATCH";
	if (r->get)
		return "GET";
	if (r->put)
		return "PUT";
	return "PATCH";
}

void api_route(struct vmm_instance *in, const struct api_request *req, struct api_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		const char *id = NULL;
		if (r->with_id) {
			size_t n = strlen(r->path);
			if (strncmp(req->path, r->path, n))
				continue;
			id = req->path + n;
			if (!id_ok(id)) {
				api_fault(resp, 400, "%s: the id '%.80s' must be 1 to %d letters, digits, '_' or '-'", req->path,
					  id, ID_MAX);
				return;
			}
		} else if (strcmp(req->path, r->path)) {
			continue;
		}
		api_handler *h = req->method == API_GET ? r->get : req->method == API_PUT ? r->put
							: req->method == API_PATCH ? r->patch : NULL;
		if (!h) {
			api_fault(resp, 405, "%s %s: method not allowed (allowed: %s)", req->method_name, req->path,
				  allow_of(r));
			resp->allow = allow_of(r);
			return;
		}
		h(in, req, id, resp);
		if (!resp->status)
			api_fault(resp, 500, "%s %s: the route gave no answer", req->method_name, req->path);
		return;
	}
	api_fault(resp, 404, "%s: no such resource", req->path);
}

void api_response_free(struct api_response *resp)
{
	free(resp->body);
	resp->body = NULL;
}

void api_json(struct api_response *resp, int status, json_t *body)
{
	free(resp->body);
	resp->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	resp->status = body && !resp->body ? 500 : status;
}

void api_fault(struct api_response *resp, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_json(resp, status, json_pack("{s:s}", "fault_message", msg));
}

void api_fault_err(struct api_response *resp, const cap_err *err)
{
	api_fault(resp, err->exit_code == CAP_EXIT_USAGE ? 400 : 500, "%s", err->set ? err->msg : "failed");
}

void api_no_content(struct api_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->status = 204;
}

json_t *api_body_object(const struct api_request *req, const char *const *allowed, struct api_response *resp)
{
	if (!req->body || !req->body_len) {
		api_fault(resp, 400, "%s %s: the request needs a JSON body", req->method_name, req->path);
		return NULL;
	}
	json_error_t je;
	json_t *o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		api_fault(resp, 400, "%s %s: the body is not valid JSON: %s (at byte %d)", req->method_name, req->path,
			  je.text, je.position);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		api_fault(resp, 400, "%s %s: the body must be a JSON object", req->method_name, req->path);
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		size_t k = 0;
		while (allowed[k] && strcmp(allowed[k], key))
			k++;
		if (!allowed[k]) {
			api_fault(resp, 400, "%s %s: unknown field '%.80s'", req->method_name, req->path, key);
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int api_get_str(json_t *o, const char *key, const char **out, struct api_response *resp)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		api_fault(resp, 400, "%s: must be a string", key);
		return -1;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		api_fault(resp, 400, "%s: must not contain a NUL character", key);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int api_get_bool(json_t *o, const char *key, bool *out, struct api_response *resp)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		api_fault(resp, 400, "%s: must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int api_get_uint(json_t *o, const char *key, uint64_t max, uint64_t *out, struct api_response *resp)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		api_fault(resp, 400, "%s: must be a non-negative integer", key);
		return -1;
	}
	if ((uint64_t)json_integer_value(v) > max) {
		api_fault(resp, 400, "%s %lld: at most %llu", key, (long long)json_integer_value(v),
			  (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 1;
}

int api_need_str(json_t *o, const char *key, const char **out, struct api_response *resp)
{
	int r = api_get_str(o, key, out, resp);
	if (r == 0) {
		api_fault(resp, 400, "%s: missing (a string is required)", key);
		return -1;
	}
	return r;
}

int api_need_uint(json_t *o, const char *key, uint64_t max, uint64_t *out, struct api_response *resp)
{
	int r = api_get_uint(o, key, max, out, resp);
	if (r == 0) {
		api_fault(resp, 400, "%s: missing (an integer is required)", key);
		return -1;
	}
	return r;
}

bool api_refuse_after_boot(struct vmm_instance *in, const char *what, struct api_response *resp)
{
	if (!in->booted && !in->created)
		return false;
	api_fault(resp, 400, "%s: not possible after the VM has started", what);
	return true;
}

bool api_refuse_before_boot(struct vmm_instance *in, const char *what, const char *hint, struct api_response *resp)
{
	if (in->booted)
		return false;
	api_fault(resp, 400, "%s: not possible before the VM has started (%s)", what, hint);
	return true;
}
