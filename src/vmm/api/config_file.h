/* `capsule vm run --config-file vm.json`: a whole VM in Firecracker's config-file shape. */
#ifndef CAPSULE_VMM_API_CONFIG_FILE_H
#define CAPSULE_VMM_API_CONFIG_FILE_H

#include "../../lib/error.h"

struct vmm_instance;

/* Apply every section of file to an instance not started yet, through the API's routes; the
 * first refusal is err ("vm.json: drives[0]: drive rootfs: /x.img: No such file or directory"). */
int api_apply_config_file(struct vmm_instance *in, const char *file, cap_err *err);

#endif
