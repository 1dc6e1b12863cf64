// fuzz-seeds: tests/fuzz/seeds_oci_resources.c
// fuzz-sources: src/oci/spec.c src/oci/names.c src/oci/hooks.c src/lib/json.c src/lib/error.c src/lib/log.c
/* libFuzzer target: linux.resources of config.json (also the body of `update`), as
 * oci_resources_parse reads it from any JSON; network.priorities and memory.kernelTCP
 * included. A parse either fails with one "linux.resources..." message or gives values in range:
 * interface names safe to write into net_prio.ifpriomap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../src/oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return 0;
	struct oci_resources r;
	cap_err err = { 0 };
	oci_resources_init(&r);
	if (json_is_object(j) && oci_resources_parse(j, "linux.resources", &r, &err) < 0) {
		if (!err.set || strncmp(err.msg, "linux.resources", 15) || strchr(err.msg, '\n'))
			abort();
	} else if (json_is_object(j)) {
		for (size_t i = 0; i < r.n_prio; i++) {
			const char *n = r.prio[i].name;
			if (!n || !*n || strlen(n) > 15 || strpbrk(n, " \t\n/"))
				abort();
		}
		if (r.mem_swappiness != -1 && (r.mem_swappiness < 0 || r.mem_swappiness > 100))
			abort();
	}
	oci_resources_free(&r);
	json_decref(j);
	return 0;
}
