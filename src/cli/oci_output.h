/* What `capsule oci` prints: the runtime library (src/oci/oci.h) returns data, these turn it
 * into runc's output formats. Each returns an exit code, or a negative errno with err filled. */
#ifndef CAPSULE_CLI_OCI_OUTPUT_H
#define CAPSULE_CLI_OCI_OUTPUT_H

#include <stdbool.h>

#include "../lib/error.h"
#include "../oci/oci.h"

/* state ID: the runtime-spec state object, indented. */
int oci_print_state(const struct oci_runtime *rt, const char *id, cap_err *err);
/* list: a table (or only the ids with quiet), or a JSON array of state objects. */
int oci_print_list(const struct oci_runtime *rt, bool json, bool quiet, cap_err *err);
/* ps ID: "PID" and one pid a line, or a JSON array. */
int oci_print_ps(const struct oci_runtime *rt, const char *id, bool json, cap_err *err);
/* features: the JSON object. */
int oci_print_features(cap_err *err);
/* spec: write the default (or rootless) config.json into bundle (NULL = "."); never
 * overwrites one. */
int oci_write_spec(const char *bundle, bool rootless, cap_err *err);
/* events: stats_once prints one stats event; else one every interval_ms, and OOM events,
 * until the container stops. One JSON object a line, as runc. */
int oci_print_events(const struct oci_runtime *rt, const char *id, bool stats_once, unsigned interval_ms,
		     cap_err *err);

#endif
