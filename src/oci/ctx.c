#include "ctx.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void oci_ctx_init(struct oci_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->sync_fd = c->console_fd = c->fifo_fd = c->state_fd = c->console_ours = -1;
	c->fd_dir = c->late_fd = c->root_fd = -1;
	for (int i = 0; i < OCI_NS_COUNT; i++)
		c->ns_fd[i] = -1;
}

void oci_ctx_release(struct oci_ctx *c)
{
	if (c->sync_fd >= 0)
		close(c->sync_fd);
	if (c->console_fd >= 0)
		close(c->console_fd);
	if (c->console_ours >= 0)
		close(c->console_ours);
	if (c->fifo_fd >= 0)
		close(c->fifo_fd);
	if (c->root_fd >= 0)
		close(c->root_fd);
	for (int i = 0; i < c->n_ns_fd; i++)
		if (c->ns_fd[i] >= 0)
			close(c->ns_fd[i]);
	free(c->seccomp.filter);
	free(c->hook_state);
	c->sync_fd = c->console_fd = c->fifo_fd = c->console_ours = c->root_fd = -1;
	c->n_ns_fd = 0;
	c->seccomp.filter = NULL;
	c->hook_state = NULL;
}
