#include "acpi_aml.h"

#include <string.h>

#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_STRING_PREFIX 0x0D
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_EXT_PREFIX 0x5B
#define AML_DEVICE_OP 0x82

size_t aml_pkglength(uint8_t *out, size_t content)
{
	/* The length counts its own encoding: try each size until it fits. */
	if (content + 1 < 64) {
		out[0] = (uint8_t)(content + 1);
		return 1;
	}
	for (size_t extra = 1; extra <= 3; extra++) {
		size_t total = content + 1 + extra;
		if (total >= (1ULL << (4 + 8 * extra)))
			continue;
		out[0] = (uint8_t)((extra << 6) | (total & 0x0f));
		for (size_t i = 0; i < extra; i++)
			out[1 + i] = (uint8_t)(total >> (4 + 8 * i));
		return 1 + extra;
	}
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* One Device () block; returns its length. `out` has room for 64 bytes. */
static size_t device_aml(uint8_t *out, const struct acpi_mmio_device *d, int uid)
{
	uint8_t body[64];
	size_t n = 0;

	body[n++] = 'V';
	body[n++] = 'R';
	body[n++] = (uint8_t)('0' + uid / 10);
	body[n++] = (uint8_t)('0' + uid % 10);
	/* Name (_HID, "LNRO0005") */
	body[n++] = AML_NAME_OP;
	memcpy(body + n, "_HID", 4), n += 4;
	body[n++] = AML_STRING_PREFIX;
	memcpy(body + n, "LNRO0005", 9), n += 9;
	/* Name (_UID, uid) */
	body[n++] = AML_NAME_OP;
	memcpy(body + n, "_UID", 4), n += 4;
	body[n++] = AML_BYTE_PREFIX;
	body[n++] = (uint8_t)uid;
	/* Name (_CRS, Buffer (23) { resource descriptors }) */
	body[n++] = AML_NAME_OP;
	memcpy(body + n, "_CRS", 4), n += 4;
	body[n++] = AML_BUFFER_OP;
	body[n++] = 1 + 2 + 23; /* PkgLength: itself, the BufferSize term, the bytes */
	body[n++] = AML_BYTE_PREFIX;
	body[n++] = 23;
	/* Memory32Fixed: large item 0x86, length 9, read-write, base, length */
	body[n++] = 0x86;
	body[n++] = 9;
	body[n++] = 0;
	body[n++] = 1;
	put32(body + n, (uint32_t)d->addr), n += 4;
	put32(body + n, d->size), n += 4;
	/* Extended Interrupt: large item 0x89, length 6, flags consumer|edge (active-high,
	 * exclusive), one interrupt. Edge matches the MADT's default for ISA IRQs and the
	 * pulses an irqfd delivers. */
	body[n++] = 0x89;
	body[n++] = 6;
	body[n++] = 0;
	body[n++] = 0x03;
	body[n++] = 1;
	put32(body + n, d->gsi), n += 4;
	/* End tag, checksum 0 ("ignore") */
	body[n++] = 0x79;
	body[n++] = 0;

	size_t o = 0;
	out[o++] = AML_EXT_PREFIX;
	out[o++] = AML_DEVICE_OP;
	o += aml_pkglength(out + o, n);
	memcpy(out + o, body, n);
	return o + n;
}

size_t aml_virtio_mmio_scope(uint8_t *out, size_t cap, const struct acpi_mmio_device *devs, int n)
{
	uint8_t dev[64];
	size_t content = 5; /* "\_SB_" */

	if (n <= 0)
		return 0;
	if (n > ACPI_MAX_MMIO_DEVICES || n > 99)
		return (size_t)-1;
	for (int i = 0; i < n; i++) {
		if (devs[i].addr > UINT32_MAX || devs[i].addr + devs[i].size > 0x100000000ULL || !devs[i].size)
			return (size_t)-1;
		content += device_aml(dev, &devs[i], i);
	}
	uint8_t pl[4];
	size_t pln = aml_pkglength(pl, content);
	size_t total = 1 + pln + content;
	if (!pln || total > cap)
		return (size_t)-1;

	size_t o = 0;
	out[o++] = AML_SCOPE_OP;
	memcpy(out + o, pl, pln), o += pln;
	memcpy(out + o, "\\_SB_", 5), o += 5;
	for (int i = 0; i < n; i++)
		o += device_aml(out + o, &devs[i], i);
	return o;
}
