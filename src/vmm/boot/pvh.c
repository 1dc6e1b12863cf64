/* PVH boot (xen/include/public/arch-x86/hvm/start_info.h, version 1): the kernel enters in
 * 32-bit protected mode with EBX pointing at struct hvm_start_info, which carries the command
 * line, the initrd as a module and the memory map. */
#include <errno.h>
#include <string.h>

#include "layout.h"
#include "loader.h"

#define HVM_START_MAGIC 0x336ec578u
#define HVM_MEMMAP_MAX 8

struct __attribute__((packed)) hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct __attribute__((packed)) hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct __attribute__((packed)) hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry");

#define PVH_MODLIST_ADDR (BOOT_PVH_INFO_ADDR + 0x40)
#define PVH_MEMMAP_ADDR (BOOT_PVH_INFO_ADDR + 0x80)
_Static_assert(PVH_MEMMAP_ADDR + HVM_MEMMAP_MAX * sizeof(struct hvm_memmap_table_entry) <= BOOT_ZERO_PAGE_ADDR,
	       "PVH info must end below the zero page");

int pvh_write_start_info(struct guest_mem *m, const struct pvh_args *a)
{
	struct e820_entry e[HVM_MEMMAP_MAX];
	int n = boot_e820(m, e, HVM_MEMMAP_MAX);
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = a->has_cmdline ? BOOT_CMDLINE_ADDR : 0,
		.memmap_paddr = PVH_MEMMAP_ADDR,
		.memmap_entries = (uint32_t)n,
		.rsdp_paddr = a->rsdp,
	};

	if (a->initrd_size) {
		struct hvm_modlist_entry mod = { .paddr = a->initrd_start, .size = a->initrd_size };
		if (guest_mem_write(m, PVH_MODLIST_ADDR, &mod, sizeof(mod)) < 0)
			return -EFAULT;
		si.nr_modules = 1;
		si.modlist_paddr = PVH_MODLIST_ADDR;
	}
	for (int i = 0; i < n; i++) {
		struct hvm_memmap_table_entry me = { .addr = e[i].addr, .size = e[i].size, .type = e[i].type };
		if (guest_mem_write(m, PVH_MEMMAP_ADDR + (uint64_t)i * sizeof(me), &me, sizeof(me)) < 0)
			return -EFAULT;
	}
	return guest_mem_write(m, BOOT_PVH_INFO_ADDR, &si, sizeof(si));
}
