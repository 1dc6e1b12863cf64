/* Snapshot state files without KVM: the envelope round-trips and refuses every single-byte
 * corruption and every truncation with a message (naming the section when a section is hit);
 * the config section round-trips the devices and refuses hostile counts; the CPUID rule refuses
 * a vendor change and a promised feature the host lacks, and ignores the bits KVM changes. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "../../src/vmm/snapshot_config.h"
#include "../../src/vmm/snapshot_cpuid.h"
#include "../../src/vmm/snapshot_file.h"

static void sample_body(struct vmstate_out *o)
{
	vmstate_out_init(o);
	vmstate_begin(o, "machine", 1);
	vmstate_put_u32(o, "vcpus", 1);
	vmstate_end(o);
	vmstate_begin(o, "vcpu0", 1);
	vmstate_put_u64(o, "rip", 0x1234);
	vmstate_put_bytes(o, "lapic", "0123456789abcdef", 16);
	vmstate_end(o);
	vmstate_begin(o, "serial", 1);
	vmstate_put_u8(o, "ier", 3);
	vmstate_end(o);
}

static void test_envelope_round_trip(void)
{
	struct vmstate_out o;
	uint8_t *f = NULL;
	size_t n = 0;
	sample_body(&o);
	CHECK_EQ(snapshot_file_build(SNAPSHOT_FLAG_DIFF, 16u << 20, o.buf, o.len, &f, &n), 0);
	CHECK_EQ(n, SNAPSHOT_HEADER_SIZE + 3 * SNAPSHOT_ENTRY_SIZE + o.len);
	struct snapshot_header h;
	const uint8_t *body = NULL;
	cap_err err = { 0 };
	CHECK_EQ(snapshot_file_check(f, n, &h, &body, &err), 0);
	CHECK_EQ(h.version, SNAPSHOT_FORMAT_VERSION);
	CHECK_EQ(h.flags, SNAPSHOT_FLAG_DIFF);
	CHECK_EQ(h.mem_bytes, 16u << 20);
	CHECK_EQ(h.nsections, 3);
	CHECK(body && h.body_len == o.len && !memcmp(body, o.buf, o.len));
	free(f);
	vmstate_out_free(&o);
}

/* Every byte flipped, every prefix: refused, with a message; a hit inside a section names it. */
static void test_envelope_corruption(void)
{
	struct vmstate_out o;
	uint8_t *f = NULL;
	size_t n = 0;
	sample_body(&o);
	CHECK_EQ(snapshot_file_build(0, 16u << 20, o.buf, o.len, &f, &n), 0);
	size_t body = SNAPSHOT_HEADER_SIZE + 3 * SNAPSHOT_ENTRY_SIZE;
	for (size_t i = 0; i < n; i++) {
		uint8_t *c = malloc(n);
		memcpy(c, f, n);
		c[i] ^= 0x5a;
		struct snapshot_header h;
		const uint8_t *b;
		cap_err err = { 0 };
		CHECK(snapshot_file_check(c, n, &h, &b, &err) < 0);
		CHECK(err.set && err.msg[0]);
		if (i >= body)
			CHECK(strstr(err.msg, "section machine") || strstr(err.msg, "section vcpu0") ||
			      strstr(err.msg, "section serial"));
		free(c);
	}
	for (size_t len = 0; len < n; len++) {
		struct snapshot_header h;
		const uint8_t *b;
		cap_err err = { 0 };
		CHECK(snapshot_file_check(f, len, &h, &b, &err) < 0);
		CHECK(strstr(err.msg, "truncated") != NULL);
	}
	/* a later version is refused by its number, whatever follows it */
	f[8] = 2;
	struct snapshot_header h;
	const uint8_t *b;
	cap_err err = { 0 };
	CHECK(snapshot_file_check(f, n, &h, &b, &err) < 0);
	CHECK(strstr(err.msg, "format version 2") != NULL);
	free(f);
	vmstate_out_free(&o);
}

static void test_config_round_trip(void)
{
	struct vm_config c, d;
	cap_err err = { 0 };
	vm_config_init(&c);
	CHECK_EQ(vm_config_add_disk(&c, "/tmp/a.img,ro,id=root", &err), 0);
	CHECK_EQ(vm_config_add_disk(&c, "/tmp/b.img", &err), 0);
	CHECK_EQ(vm_config_add_net(&c, "tap=tap7,mac=02:00:00:00:00:07", &err), 0);
	CHECK_EQ(vm_config_set_vsock(&c, "cid=9,uds=/tmp/v.sock", &err), 0);
	c.rng = true;
	struct vmstate_out o;
	vmstate_out_init(&o);
	vmstate_begin(&o, "config", SNAPSHOT_CONFIG_VERSION);
	snapshot_config_encode(&c, &o);
	CHECK_EQ(vmstate_end(&o), 0);
	struct vmstate_in in;
	vmstate_in_init(&in, o.buf, o.len);
	CHECK_EQ(vmstate_open(&in, "config", NULL), 0);
	vm_config_init(&d);
	CHECK_EQ(snapshot_config_decode(&in, &d, &err), 0);
	CHECK_EQ(d.ndisks, 2);
	CHECK_STR(d.disks[0].path, "/tmp/a.img");
	CHECK(d.disks[0].readonly && !d.disks[1].readonly);
	CHECK_STR(d.disks[0].id, "root");
	CHECK(d.disks[1].id == NULL);
	CHECK_EQ(d.nnets, 1);
	CHECK_STR(d.nets[0].tap, "tap7");
	CHECK(d.nets[0].has_mac && d.nets[0].mac[5] == 7);
	CHECK_STR(d.vsock_uds, "/tmp/v.sock");
	CHECK_EQ(d.vsock_cid, 9);
	CHECK(d.rng && !d.balloon);
	vm_config_free(&c);
	vm_config_free(&d);
	vmstate_out_free(&o);
}

static void test_config_hostile(void)
{
	struct vmstate_out o;
	vmstate_out_init(&o);
	vmstate_begin(&o, "config", 1);
	vmstate_put_u32(&o, "disks", 17); /* more than VM_MAX_DISKS */
	vmstate_put_bool(&o, "root_disk", false);
	vmstate_end(&o);
	vmstate_begin(&o, "config2", 1);
	vmstate_put_u32(&o, "disks", 1);
	vmstate_put_bool(&o, "root_disk", false);
	vmstate_put_bytes(&o, "disk0.path", "a\0b", 3); /* a NUL inside */
	vmstate_end(&o);
	struct vmstate_in in;
	struct vm_config d;
	cap_err err = { 0 };
	vmstate_in_init(&in, o.buf, o.len);
	CHECK_EQ(vmstate_open(&in, "config", NULL), 0);
	vm_config_init(&d);
	CHECK(snapshot_config_decode(&in, &d, &err) < 0);
	CHECK(strstr(err.msg, "field disks: malformed") != NULL);
	CHECK_EQ(d.ndisks, 0);
	CHECK_EQ(vmstate_open(&in, "config2", NULL), 0);
	cap_err err2 = { 0 };
	CHECK(snapshot_config_decode(&in, &d, &err2) < 0);
	CHECK(strstr(err2.msg, "field disk0.path: malformed") != NULL);
	CHECK(d.ndisks == 0 && d.disks[0].path == NULL);
	vmstate_out_free(&o);
}

static const struct vcpu_cpuid_entry intel[] = {
	{ 0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69 }, /* GenuineIntel */
	{ 1, 0, 0, 0, 0, 0x80000001u | (1u << 27), 0x1 | (1u << 9) },
	{ 7, 0, 1, 0, 0x29, 0, 0 },
};

static void test_cpuid_rule(void)
{
	char why[256];
	struct vcpu_cpuid_entry host[3];
	memcpy(host, intel, sizeof(host));
	CHECK_EQ(snapshot_cpuid_check(intel, 3, host, 3, why, sizeof(why)), 0);
	/* a host offering more is fine */
	host[2].ebx |= 0x100;
	CHECK_EQ(snapshot_cpuid_check(intel, 3, host, 3, why, sizeof(why)), 0);
	/* OSXSAVE and APIC follow the guest's CR4 and APIC_BASE: not features of the host */
	host[1].ecx &= ~(1u << 27);
	host[1].edx &= ~(1u << 9);
	CHECK_EQ(snapshot_cpuid_check(intel, 3, host, 3, why, sizeof(why)), 0);
	/* a promised leaf-7 feature missing */
	host[2].ebx = 0x21;
	CHECK(snapshot_cpuid_check(intel, 3, host, 3, why, sizeof(why)) < 0);
	CHECK(strstr(why, "leaf 0x7.0 ebx bits 0x8") != NULL);
	/* another vendor */
	memcpy(host, intel, sizeof(host));
	host[0].ebx = 0x68747541; /* Auth */
	CHECK(snapshot_cpuid_check(intel, 3, host, 3, why, sizeof(why)) < 0);
	CHECK(strstr(why, "taken on a GenuineIntel CPU") != NULL);
	/* no leaf 0 at all */
	CHECK(snapshot_cpuid_check(intel + 1, 2, host, 3, why, sizeof(why)) < 0);
}

int main(void)
{
	RUN(test_envelope_round_trip);
	RUN(test_envelope_corruption);
	RUN(test_config_round_trip);
	RUN(test_config_hostile);
	RUN(test_cpuid_rule);
	return unit_failed_total ? 1 : 0;
}
