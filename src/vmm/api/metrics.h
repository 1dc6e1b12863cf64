/* The VMM's metrics (GET /metrics, and the lines FlushMetrics writes to the PUT /metrics file). */
#ifndef CAPSULE_VMM_API_METRICS_H
#define CAPSULE_VMM_API_METRICS_H

#include <jansson.h>

#include "../../lib/error.h"

struct vmm_instance;

json_t *api_metrics_json(struct vmm_instance *in);
/* Append one line of metrics JSON to the metrics file; a usage error when none is set. */
int api_metrics_flush(struct vmm_instance *in, cap_err *err);

#endif
