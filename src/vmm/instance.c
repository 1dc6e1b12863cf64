/* The VMM process's VM as the API sees it (instance.h); the steps that act on it are in
 * instance_ops.c. */
#include "instance.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


int vmm_instance_init(struct vmm_instance *in, const char *id, const struct vm_config *cfg, struct evloop *loop,
		      const struct vmm_ops *ops, cap_err *err)
{
	memset(in, 0, sizeof(*in));
	in->metrics_fd = -1;
	in->ops = ops;
	in->loop = loop;
	in->t_process_ns = vm_now_ns();
	if (!id)
		id = VMM_DEFAULT_ID;
	if (!vmm_id_valid(id))
		return cap_errf_code(err, CAP_EXIT_USAGE, 0,
				     "vm id '%.80s': want 1 to %d letters, digits, '_' or '-'",
				     id, VMM_ID_MAX);
	strcpy(in->id, id);
	if (vm_config_copy(&in->cfg, cfg) < 0)
		return cap_errf(err, ENOMEM, "VM configuration");
	return 0;
}

void vmm_instance_free(struct vmm_instance *in)
{
	if (in->ops && in->ops->teardown)
		in->ops->teardown(in);
	vm_config_free(&in->cfg);
	free(in->vsock_id);
	free(in->metrics_path);
	if (in->metrics_fd >= 0)
		close(in->metrics_fd);
	memset(in, 0, sizeof(*in));
	in->metrics_fd = -1;
}

enum vmm_state vmm_instance_state(const struct vmm_instance *in)
{
	if (!in->booted)
		return VMM_NOT_STARTED;
	switch (vm_get_state(&in->vm)) {
	case VM_RUNNING: return VMM_RUNNING;
	case VM_PAUSED: return VMM_PAUSED;
	case VM_CREATED: return VMM_NOT_STARTED;
	default: return VMM_STOPPED;
	}
}

const char *vmm_state_name(enum vmm_state s)
{
	switch (s) {
	case VMM_NOT_STARTED: return "Not started";
	case VMM_RUNNING: return "Running";
	case VMM_PAUSED: return "Paused";
	default: return "Stopped";
	}
}

const struct vm_config *vmm_instance_config(const struct vmm_instance *in)
{
	return in->created ? &in->vm.cfg : &in->cfg;
}

bool vmm_id_valid(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n <= VMM_ID_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}
