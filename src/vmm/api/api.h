/* The VMM's HTTP/1.1 + JSON API on a Unix socket (docs/api.md), served from the main loop.
 * Sockets are non-blocking and every connection has its own bounded buffers and deadlines, so a
 * slow, stalled or half-closed client costs one slot and never holds up the loop or others. */
#ifndef CAPSULE_VMM_API_API_H
#define CAPSULE_VMM_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../lib/error.h"

struct evloop;
struct vmm_instance;
struct api_client;

#define API_MAX_CLIENTS 64
#define API_MAX_OVER 16                /* past the limit: answered 503 (after reading the request), then closed */
#define API_REQUEST_TIMEOUT_MS 5000    /* from a request's first byte to its last */
#define API_WRITE_TIMEOUT_MS 5000      /* a response the client does not read */
#define API_IDLE_TIMEOUT_MS 120000     /* a kept-alive connection with nothing to do */

/* Where `capsule vm run --id NAME` puts its socket: API_RUN_DIR/NAME.sock. */
#define API_RUN_DIR "/run/capsule/vm"

struct api_server {
	int listen_fd, timer_fd;
	char *path;
	dev_t dev;                     /* the socket file we made, unlinked only if it is still ours */
	ino_t ino;
	struct evloop *loop;
	struct vmm_instance *in;
	struct api_client *clients;
	int nclients;
	bool timer_armed;
};

/* Bind path (refusing one a live VMM serves; a stale socket is replaced) and serve on loop. */
int api_server_start(struct api_server *s, const char *path, struct evloop *loop, struct vmm_instance *in,
		     cap_err *err);
/* Close every connection and the socket, and remove the socket file (safe when never started). */
void api_server_stop(struct api_server *s);

/* The default socket of VM id: API_RUN_DIR/id.sock into buf; -ENAMETOOLONG if it does not fit. */
int api_default_sock(const char *id, char *buf, size_t len);
/* mkdir -p API_RUN_DIR (0700). */
int api_make_run_dir(cap_err *err);

#endif
