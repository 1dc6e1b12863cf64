/* AML for virtio-mmio devices in the DSDT: PkgLength encoding and the device blocks, decoded back. */
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "../../src/vmm/boot/acpi.h"
#include "../../src/vmm/boot/acpi_aml.h"

/* Decode a PkgLength; returns its value and sets *n to the bytes it took. */
static size_t decode_pkglength(const uint8_t *p, size_t *n)
{
	size_t extra = p[0] >> 6;
	if (!extra) {
		*n = 1;
		return p[0] & 0x3f;
	}
	size_t v = p[0] & 0x0f;
	for (size_t i = 0; i < extra; i++)
		v |= (size_t)p[1 + i] << (4 + 8 * i);
	*n = 1 + extra;
	return v;
}

static void test_pkglength_roundtrip(void)
{
	const size_t lens[] = { 0, 1, 62, 63, 64, 100, 4000, 4093, 4094, 70000, 1u << 20 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint8_t b[4];
		size_t n = aml_pkglength(b, lens[i]), m;
		CHECK(n >= 1 && n <= 4);
		/* The encoded value counts the content plus the encoding itself. */
		CHECK_EQ(decode_pkglength(b, &m), lens[i] + n);
		CHECK_EQ(m, n);
	}
	uint8_t b[4];
	CHECK_EQ(aml_pkglength(b, 62), 1u);
	CHECK_EQ(aml_pkglength(b, 63), 2u);
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

static void test_devices_decode(void)
{
	struct acpi_mmio_device d[3] = {
		{ 0xD0001000, 0x1000, 5 }, { 0xD0002000, 0x1000, 6 }, { 0xD0003000, 0x1000, 23 },
	};
	uint8_t buf[1024];
	size_t len = aml_virtio_mmio_scope(buf, sizeof(buf), d, 3);
	CHECK(len > 0 && len < sizeof(buf));
	CHECK_EQ(buf[0], 0x10); /* ScopeOp */
	size_t pn, scope_len = decode_pkglength(buf + 1, &pn);
	CHECK_EQ(scope_len, len - 1);
	CHECK(!memcmp(buf + 1 + pn, "\\_SB_", 5));
	const uint8_t *p = buf + 1 + pn + 5;
	for (int i = 0; i < 3; i++) {
		CHECK(p[0] == 0x5B && p[1] == 0x82); /* DeviceOp */
		size_t dn, dlen = decode_pkglength(p + 2, &dn);
		char name[5] = { 'V', 'R', (char)('0' + i / 10), (char)('0' + i % 10), 0 };
		CHECK(!memcmp(p + 2 + dn, name, 4));
		CHECK(find(p, dlen + 2, "LNRO0005", 9) != NULL);
		const uint8_t *mem = find(p, dlen + 2, "\x86\x09\x00\x01", 4);
		CHECK(mem != NULL);
		uint32_t base, size, gsi;
		memcpy(&base, mem + 4, 4);
		memcpy(&size, mem + 8, 4);
		CHECK_EQ(base, (uint32_t)d[i].addr);
		CHECK_EQ(size, d[i].size);
		const uint8_t *irq = find(p, dlen + 2, "\x89\x06\x00\x03\x01", 5);
		CHECK(irq != NULL);
		memcpy(&gsi, irq + 5, 4);
		CHECK_EQ(gsi, d[i].gsi);
		p += 2 + dlen;
	}
	CHECK_EQ((size_t)(p - buf), len);
}

static void test_devices_refused(void)
{
	uint8_t buf[256];
	struct acpi_mmio_device high = { 0x100000000ULL, 0x1000, 5 };
	CHECK_EQ(aml_virtio_mmio_scope(buf, sizeof(buf), &high, 1), (size_t)-1);
	struct acpi_mmio_device ok = { 0xD0001000, 0x1000, 5 };
	CHECK_EQ(aml_virtio_mmio_scope(buf, 8, &ok, 1), (size_t)-1); /* too small a buffer */
	CHECK_EQ(aml_virtio_mmio_scope(buf, sizeof(buf), &ok, 0), 0u);
}

static void test_dsdt_carries_devices(void)
{
	uint8_t *ram = calloc(1, 2 << 20);
	struct guest_mem m;
	cap_err err = { 0 };
	guest_mem_init_buffer(&m, ram, 2 << 20);
	struct acpi_mmio_device d = { 0xD0001000, 0x1000, 5 };
	CHECK_EQ(acpi_write_tables(&m, 2, &d, 1, &err), 0);
	const uint8_t *dsdt = find(ram + ACPI_RSDP_ADDR, ACPI_AREA_END - ACPI_RSDP_ADDR, "DSDT", 4);
	CHECK(dsdt != NULL);
	uint32_t len;
	memcpy(&len, dsdt + 4, 4);
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + dsdt[i]);
	CHECK_EQ(sum, 0);
	CHECK(find(dsdt, len, "LNRO0005", 9) != NULL);
	CHECK(find(dsdt, len, "_S5_", 4) != NULL);
	free(ram);
}

int main(void)
{
	RUN(test_pkglength_roundtrip);
	RUN(test_devices_decode);
	RUN(test_devices_refused);
	RUN(test_dsdt_carries_devices);
	UNIT_EXIT();
}
