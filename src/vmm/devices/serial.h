/* A 16550A UART on COM1 (0x3F8, IRQ 4): the VM console. */
#ifndef CAPSULE_VMM_DEVICES_SERIAL_H
#define CAPSULE_VMM_DEVICES_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "../../lib/error.h"

struct vm;
struct serial;

/* out_fd: where guest output goes (-1: discarded); the caller keeps it open. */
int serial_create(struct vm *vm, int out_fd, struct serial **out, cap_err *err);
/* The VM's console (vm->serial), its output where vm->cfg.console says (a file is opened here
 * and closed with the device). */
int serial_init(struct vm *vm, cap_err *err);
/* Queue bytes typed on the host console for the guest to read (any thread). */
void serial_input(struct serial *s, const uint8_t *buf, size_t len);
/* Free space in the receive FIFO (to apply back-pressure on the input source). */
size_t serial_input_room(struct serial *s);
/* Call fn(opaque) (on a vCPU thread) when the guest reads from a full receive FIFO, so that a
 * paused input source can resume. */
void serial_set_drain_notify(struct serial *s, void (*fn)(void *opaque), void *opaque);

#endif
