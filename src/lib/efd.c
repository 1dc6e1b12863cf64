#include "efd.h"

#include <stdint.h>
#include <unistd.h>

void efd_signal(int fd)
{
	uint64_t one = 1;
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* see the header: a pending wakeup is enough */
	}
}

void efd_drain(int fd)
{
	uint64_t v;
	if (fd >= 0 && read(fd, &v, sizeof(v)) < 0) {
		/* nothing pending */
	}
}
