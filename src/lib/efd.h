/* eventfd helpers shared by the VMM's threads. */
#ifndef CAPSULE_LIB_EFD_H
#define CAPSULE_LIB_EFD_H

/* Add 1 to an eventfd. A full counter (EAGAIN) means a wakeup is already pending, so errors are
 * deliberately ignored: the reader will wake either way. */
void efd_signal(int fd);
/* Read and discard an eventfd's counter (non-blocking fds: a spurious wakeup reads nothing). */
void efd_drain(int fd);

#endif
