/* PUT /metrics (where FlushMetrics writes), GET /metrics, and the metrics themselves: the API's
 * own counters, the VM's times, and every vCPU's KVM exits by reason. */
#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bus.h"
#include "../instance.h"
#include "../vcpu.h"
#include "router.h"

static uint64_t utc_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Every device's exits by bus range, summed by name: {"serial": {"pio": 1234}, ...}. */
static void bus_counts(const struct bus *b, const char *bus, json_t *devices)
{
	for (int i = 0; i < b->n; i++) {
		const struct bus_range *r = &b->ranges[i];
		const char *name = r->name ? r->name : "unnamed";
		json_t *d = json_object_get(devices, name);
		if (!d) {
			d = json_object();
			json_object_set_new(devices, name, d);
		}
		json_int_t was = json_integer_value(json_object_get(d, bus));
		json_object_set_new(d, bus, json_integer(was + (json_int_t)__atomic_load_n(&r->accesses, __ATOMIC_RELAXED)));
	}
}

json_t *api_metrics_json(struct vmm_instance *in)
{
	uint64_t now = vm_now_ns();
	json_t *exits = json_object();
	uint64_t counts[VCPU_EXIT_KINDS];
	vcpu_exit_counts(in->booted ? in->vm.vcpus : NULL, in->booted ? in->vm.ncpus : 0, counts);
	for (int k = 0; k < VCPU_EXIT_KINDS; k++)
		json_object_set_new(exits, vcpu_exit_kind_names[k], json_integer((json_int_t)counts[k]));
	json_t *devices = json_object();
	if (in->booted) {
		bus_counts(&in->vm.pio, "pio", devices);
		bus_counts(&in->vm.mmio, "mmio", devices);
	}
	/* Boot time: InstanceStart (vm_start) to the guest's boot-timer write, Firecracker's measure. */
	uint64_t init = in->booted ? __atomic_load_n(&in->vm.t_guest_init_ns, __ATOMIC_RELAXED) : 0;
	json_t *boot = init && init >= in->vm.t_vm_start_ns ? json_real((double)(init - in->vm.t_vm_start_ns) / 1e6)
							      : json_null();
	return json_pack("{s:I, s:{s:I, s:I}, s:{s:s, s:I, s:I, s:o, s:f}, s:{s:o}, s:o}", "utc_timestamp_ms",
			 (json_int_t)utc_ms(), "api_server", "requests", (json_int_t)in->api_requests, "errors",
			 (json_int_t)in->api_errors, "vmm", "state", vmm_state_name(vmm_instance_state(in)),
			 "process_uptime_ms", (json_int_t)((now - in->t_process_ns) / 1000000), "vm_uptime_ms",
			 (json_int_t)(in->t_boot_ns ? (now - in->t_boot_ns) / 1000000 : 0), "boot_ms", boot,
			 "start_cpu_ms", in->booted ? in->vm.start_cpu_ms : 0.0, "vcpu", "exits", exits, "devices", devices);
}

int api_metrics_flush(struct vmm_instance *in, cap_err *err)
{
	if (in->metrics_fd < 0)
		return cap_errf_code(err, CAP_EXIT_USAGE, 0, "FlushMetrics: no metrics file (PUT /metrics first)");
	json_t *m = api_metrics_json(in);
	char *line = m ? json_dumps(m, JSON_COMPACT) : NULL;
	json_decref(m);
	if (!line)
		return cap_errf(err, ENOMEM, "metrics");
	size_t n = strlen(line);
	line[n++] = '\n'; /* json_dumps's NUL becomes the newline: one line per flush */
	ssize_t w = write(in->metrics_fd, line, n);
	int e = errno;
	free(line);
	if (w != (ssize_t)n)
		return cap_errf(err, w < 0 ? e : EIO, "metrics file %s", in->metrics_path);
	return 0;
}

void api_put_metrics(struct vmm_instance *in, const struct api_request *req, const char *id, struct api_response *resp)
{
	static const char *const fields[] = { "metrics_path", NULL };
	const char *path;
	(void)id;
	json_t *o = api_body_object(req, fields, resp);
	if (!o)
		return;
	if (api_need_str(o, "metrics_path", &path, resp) < 0)
		goto out;
	if (in->metrics_fd >= 0) {
		api_fault(resp, 400, "metrics: already going to %s (set once, as in Firecracker)", in->metrics_path);
		goto out;
	}
	int fd = in->ops->open_metrics ? in->ops->open_metrics(in, path) : -EPERM;
	if (fd < 0) {
		api_fault(resp, 400, "metrics_path %.200s: %s", path, strerror(-fd));
		goto out;
	}
	if (!(in->metrics_path = strdup(path))) {
		close(fd);
		api_fault(resp, 500, "out of memory");
		goto out;
	}
	in->metrics_fd = fd;
	api_no_content(resp);
out:
	json_decref(o);
}

void api_get_metrics(struct vmm_instance *in, const struct api_request *req, const char *id, struct api_response *resp)
{
	(void)req, (void)id;
	api_json(resp, 200, api_metrics_json(in));
}
