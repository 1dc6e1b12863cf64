/* The API's requests and responses as the routes see them, and the routes themselves (one file
 * per resource group). A route gets a complete, bounded request (conn.c parsed it) and fills a
 * response; it never touches the socket. Faults are Firecracker's {"fault_message": "..."}. */
#ifndef CAPSULE_VMM_API_ROUTER_H
#define CAPSULE_VMM_API_ROUTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../lib/error.h"
#include "../ratelimit.h"

struct vmm_instance;

enum api_method { API_GET, API_PUT, API_PATCH, API_OTHER };

struct api_request {
	enum api_method method;
	const char *method_name;
	const char *path;          /* decoded of nothing: the URL's path, without query */
	const char *body;          /* NUL-terminated; NULL when the request has none */
	size_t body_len;
};

struct api_response {
	int status;
	char *body;                /* malloc'ed JSON text, or NULL (204) */
	const char *allow;         /* 405: the methods the path takes */
};

/* Routes a request; always fills resp. */
void api_route(struct vmm_instance *in, const struct api_request *req, struct api_response *resp);
void api_response_free(struct api_response *resp);

/* Helpers for the routes. */
void api_fault(struct api_response *resp, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 400 for a usage error (the request does not fit the state or the value is wrong), else 500. */
void api_fault_err(struct api_response *resp, const cap_err *err);
void api_json(struct api_response *resp, int status, json_t *body); /* steals body */
void api_no_content(struct api_response *resp);
/* The body as a JSON object, every key in allowed[] (NULL-terminated); NULL with a 400 fault. */
json_t *api_body_object(const struct api_request *req, const char *const *allowed, struct api_response *resp);

/* Field getters that fill a 400 fault naming the field: 0 absent (or null), 1 read, -1 fault. */
int api_get_str(json_t *o, const char *key, const char **out, struct api_response *resp);
int api_get_bool(json_t *o, const char *key, bool *out, struct api_response *resp);
int api_get_uint(json_t *o, const char *key, uint64_t max, uint64_t *out, struct api_response *resp);
/* The same, but a missing field is a fault too. */
int api_need_str(json_t *o, const char *key, const char **out, struct api_response *resp);
int api_need_uint(json_t *o, const char *key, uint64_t max, uint64_t *out, struct api_response *resp);

/* Firecracker's RateLimiter object (rate_limiter.c): the buckets it names, each checked. */
struct api_rate_limiter {
	struct rl_config c;
	bool has_bw, has_ops;      /* the body named the bucket ("size": 0 in it: no limit) */
};
/* o[key]: 0 absent (or null), 1 read into out, -1 with a 400 fault naming the bad field. */
int api_get_rate_limiter(json_t *o, const char *key, struct api_rate_limiter *out, struct api_response *resp);
/* The buckets rl names replace those of c; the others stay (PATCH's partial update). */
void api_rate_limiter_apply(const struct api_rate_limiter *rl, struct rl_config *c);
/* c in Firecracker's shape, or JSON null without a limit (GET /vm/config). */
json_t *api_rate_limiter_json(const struct rl_config *c);

/* Routes (one file per group). id is the {id} part of the path, or NULL. */
typedef void api_handler(struct vmm_instance *in, const struct api_request *req, const char *id,
			 struct api_response *resp);
api_handler api_get_instance, api_patch_vm, api_put_actions;             /* instance.c */
api_handler api_get_vm_config;                                           /* vm_config.c */
api_handler api_put_boot_source;                                         /* boot_source.c */
api_handler api_get_machine_config, api_put_machine_config, api_patch_machine_config; /* machine_config.c */
api_handler api_put_drive, api_patch_drive;                              /* drives.c */
api_handler api_put_network_interface, api_patch_network_interface;      /* network.c */
api_handler api_put_vsock;                                               /* vsock.c */
api_handler api_put_metrics, api_get_metrics;                            /* metrics.c */
api_handler api_put_snapshot_create, api_put_snapshot_load;              /* snapshot.c */
api_handler api_put_migrate;                                             /* migrate.c */
api_handler api_put_balloon, api_patch_balloon, api_get_balloon, api_get_balloon_statistics; /* balloon.c */

/* Pre-boot only: a 400 fault (and true) once the VM has started. */
bool api_refuse_after_boot(struct vmm_instance *in, const char *what, struct api_response *resp);
/* Post-boot only (Firecracker's PATCH of devices): a 400 fault (and true) before; hint says
 * what to do instead. */
bool api_refuse_before_boot(struct vmm_instance *in, const char *what, const char *hint, struct api_response *resp);

#endif
