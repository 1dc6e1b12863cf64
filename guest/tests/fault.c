/* Triple-faults on purpose: with an empty IDT, ud2's #UD cannot be delivered, nor can the #GP or #DF
 * that follow, so the vCPU shuts down and capsule must exit with status 4. */
#include "rt.h"

int guest_main(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	rt_puts("fault: triple-faulting now\n");
	__asm__ volatile("lidt %0; ud2" : : "m"(empty));
	rt_puts("fault: still alive after ud2\n");
	return RT_EXIT_FAIL;
}
