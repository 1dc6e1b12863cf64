#include "platform.h"

#include <stddef.h>

#include "../vm.h"
#include "acpi_pm.h"
#include "legacy.h"
#include "serial.h"

static int (*const platform_inits[])(struct vm *vm, cap_err *err) = {
	serial_init,
	i8042_create,
	boot_timer_create,
	acpi_pm_register,
	test_exit_create,
};

int platform_devices_create(struct vm *vm, cap_err *err)
{
	for (size_t i = 0; i < sizeof(platform_inits) / sizeof(platform_inits[0]); i++) {
		int r = platform_inits[i](vm, err);
		if (r < 0)
			return r;
	}
	return 0;
}
