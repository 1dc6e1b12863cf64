/* The parts of Linux's struct boot_params ("zero page", Documentation/arch/x86/zero-page.rst)
 * and struct setup_header (Documentation/arch/x86/boot.rst) that Capsule reads or writes.
 * Declared here with explicit padding so every offset is checked against the documented one. */
#ifndef CAPSULE_VMM_BOOT_BOOTPARAMS_H
#define CAPSULE_VMM_BOOT_BOOTPARAMS_H

#include <stddef.h>
#include <stdint.h>

#define BP_SETUP_HDR_OFF 0x1f1      /* setup_header inside both the bzImage and the zero page */
#define BP_HDR_MAGIC 0x53726448u    /* "HdrS" */
#define BP_BOOT_FLAG 0xAA55
#define BP_LOADER_UNDEFINED 0xFF    /* type_of_loader: a boot loader without an assigned id */
#define BP_LOADED_HIGH (1u << 0)    /* loadflags: protected-mode code at 0x100000 */
#define BP_CAN_USE_HEAP (1u << 7)   /* loadflags: heap_end_ptr is valid */
#define BP_XLF_KERNEL_64 (1u << 0)  /* xloadflags: 64-bit entry at load address + 0x200 */
#define BP_E820_MAX 128
#define BP_E820_RAM 1
#define BP_E820_RESERVED 2
#define BP_INITRD_ADDR_MAX_DEFAULT 0x37FFFFFFu /* boot.rst: what a pre-2.03 kernel allows */

struct __attribute__((packed)) setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
};

struct __attribute__((packed)) e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct __attribute__((packed)) boot_params {
	uint8_t screen_info[0x40];
	uint8_t apm_bios_info[0x14];
	uint8_t pad1[4];
	uint64_t tboot_addr;
	uint8_t ist_info[0x10];
	uint64_t acpi_rsdp_addr;
	uint8_t pad2[8];
	uint8_t hd0_info[0x10];
	uint8_t hd1_info[0x10];
	uint8_t sys_desc_table[0x10];
	uint8_t olpc_ofw_header[0x10];
	uint32_t ext_ramdisk_image;
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t pad3[0x74];
	uint8_t edid_info[0x80];
	uint8_t efi_info[0x20];
	uint32_t alt_mem_k;
	uint32_t scratch;
	uint8_t e820_entries;
	uint8_t eddbuf_entries;
	uint8_t edd_mbr_sig_buf_entries;
	uint8_t kbd_status;
	uint8_t secure_boot;
	uint8_t pad4[2];
	uint8_t sentinel;
	uint8_t pad5[1];
	struct setup_header hdr;
	uint8_t pad6[0x290 - 0x1f1 - sizeof(struct setup_header)];
	uint32_t edd_mbr_sig_buffer[16];
	struct e820_entry e820_table[BP_E820_MAX];
	uint8_t pad8[0x30];
	uint8_t eddbuf[0x1ec];
	uint8_t pad9[0x114];
};

#define BP_CHECK(field, off) _Static_assert(offsetof(struct boot_params, field) == (off), #field)
BP_CHECK(tboot_addr, 0x058);
BP_CHECK(acpi_rsdp_addr, 0x070);
BP_CHECK(ext_ramdisk_image, 0x0c0);
BP_CHECK(ext_ramdisk_size, 0x0c4);
BP_CHECK(ext_cmd_line_ptr, 0x0c8);
BP_CHECK(edid_info, 0x140);
BP_CHECK(efi_info, 0x1c0);
BP_CHECK(alt_mem_k, 0x1e0);
BP_CHECK(e820_entries, 0x1e8);
BP_CHECK(sentinel, 0x1ef);
BP_CHECK(hdr, 0x1f1);
BP_CHECK(hdr.boot_flag, 0x1fe);
BP_CHECK(hdr.header, 0x202);
BP_CHECK(hdr.version, 0x206);
BP_CHECK(hdr.type_of_loader, 0x210);
BP_CHECK(hdr.loadflags, 0x211);
BP_CHECK(hdr.code32_start, 0x214);
BP_CHECK(hdr.ramdisk_image, 0x218);
BP_CHECK(hdr.ramdisk_size, 0x21c);
BP_CHECK(hdr.heap_end_ptr, 0x224);
BP_CHECK(hdr.cmd_line_ptr, 0x228);
BP_CHECK(hdr.initrd_addr_max, 0x22c);
BP_CHECK(hdr.kernel_alignment, 0x230);
BP_CHECK(hdr.xloadflags, 0x236);
BP_CHECK(hdr.cmdline_size, 0x238);
BP_CHECK(hdr.payload_offset, 0x248);
BP_CHECK(hdr.payload_length, 0x24c);
BP_CHECK(hdr.pref_address, 0x258);
BP_CHECK(hdr.init_size, 0x260);
BP_CHECK(hdr.kernel_info_offset, 0x268);
BP_CHECK(edd_mbr_sig_buffer, 0x290);
BP_CHECK(e820_table, 0x2d0);
BP_CHECK(eddbuf, 0xd00);
_Static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup_header size");
_Static_assert(sizeof(struct e820_entry) == 20, "e820_entry size");
_Static_assert(sizeof(struct boot_params) == 4096, "boot_params is one page");
#undef BP_CHECK

#endif
