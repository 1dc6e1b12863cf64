/* Port-I/O and MMIO dispatch. Devices register a range with an access function;
 * vCPU exits are routed to it with the offset inside the range. Registration happens
 * before vCPUs start, so lookups need no lock. */
#ifndef CAPSULE_VMM_BUS_H
#define CAPSULE_VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

/* data is the exit's buffer: on a read the device fills len bytes, on a write it reads them. */
typedef void (*bus_access_fn)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

struct bus_range {
	uint64_t base, len;
	bus_access_fn fn;
	void *opaque;
	const char *name;
	uint64_t accesses;  /* exits dispatched here (relaxed atomic), for the API's metrics */
};

struct bus {
	const char *name;   /* "pio" or "mmio", for messages */
	int n, cap;
	struct bus_range *ranges; /* sorted by base, non-overlapping */
};

void bus_init(struct bus *b, const char *name);
void bus_free(struct bus *b);
/* Returns 0, -EINVAL for an empty range or one that wraps past 2^64, -EEXIST on overlap, -ENOMEM. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, bus_access_fn fn, void *opaque, const char *name);
/* Dispatches one access; returns false when no device claims addr (reads then return all-ones). */
bool bus_access(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#endif
