/* Where the boot path puts things in guest-physical memory (below 1 MiB unless noted).
 * Shared by the loader (boot/) and the vCPU setup (vcpu.c); change both together. */
#ifndef CAPSULE_VMM_BOOT_LAYOUT_H
#define CAPSULE_VMM_BOOT_LAYOUT_H

#define BOOT_GDT_ADDR        0x500ULL     /* 4 entries: null, null, code64 (0x10), data (0x18) */
#define BOOT_IDT_ADDR        0x520ULL     /* empty IDT (limit 0): a fault before the kernel's own IDT triple-faults */
#define BOOT_PVH_INFO_ADDR   0x6000ULL    /* struct hvm_start_info + memmap (PVH entry only) */
#define BOOT_ZERO_PAGE_ADDR  0x7000ULL    /* struct boot_params, RSI at entry */
#define BOOT_STACK_ADDR      0x8ff0ULL    /* initial RSP/RBP */
#define BOOT_PML4_ADDR       0x9000ULL
#define BOOT_PDPT_ADDR       0xA000ULL
#define BOOT_PD_ADDR         0xB000ULL    /* 4 pages: 0xB000..0xEFFF, identity-map 4 GiB with 2 MiB pages */
#define BOOT_CMDLINE_ADDR    0x20000ULL
#define BOOT_CMDLINE_MAX     0x10000ULL   /* 64 KiB incl. NUL */
#define BOOT_MPTABLE_ADDR    0x9FC00ULL   /* in the EBDA, where Linux's MP scan looks */
#define BOOT_EBDA_START      0x9FC00ULL   /* RAM below this is usable (e820) */
#define BOOT_HIGH_MEM_START  0x100000ULL  /* 1 MiB */
#define BOOT_KERNEL_DEFAULT  0x1000000ULL /* 16 MiB: where a bzImage payload goes if it says nothing else */

/* GDT selectors matching the table at BOOT_GDT_ADDR (Linux's boot protocol wants __BOOT_CS/__BOOT_DS). */
#define BOOT_CS_SELECTOR 0x10
#define BOOT_DS_SELECTOR 0x18

/* Devices outside RAM, in the 32-bit MMIO hole. */
#define MMIO_BOOT_TIMER_ADDR 0xD0000000ULL /* write the byte 123 here: Firecracker's boot-timer convention */
#define MMIO_BOOT_TIMER_MAGIC 123
#define MMIO_VIRTIO_BASE     0xD0001000ULL /* virtio-mmio devices, 4 KiB apart */
#define IOAPIC_ADDR          0xFEC00000ULL
#define LAPIC_ADDR           0xFEE00000ULL

/* Port I/O */
#define PORT_COM1 0x3F8
#define PORT_I8042_DATA 0x60
#define PORT_I8042_CMD 0x64
#define PORT_TEST_EXIT 0xF4 /* Capsule test guests only: out of a byte/dword ends the VM with that status */

#endif
