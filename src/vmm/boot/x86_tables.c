/* What the vCPU setup points the CPU at for a 64-bit entry: a GDT with the boot protocol's
 * __BOOT_CS/__BOOT_DS, an empty IDT, and page tables identity-mapping the first 4 GiB. */
#include <errno.h>
#include <string.h>

#include "layout.h"
#include "loader.h"

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PAGE_2M (2ULL << 20)

int boot_write_gdt_idt_paging(struct guest_mem *m)
{
	static const uint64_t gdt[4] = {
		0,                  /* null */
		0,                  /* null: keeps __BOOT_CS at 0x10 as in Linux's boot GDT */
		0x00af9b000000ffff, /* 0x10: code, 64-bit (L), present, DPL 0 */
		0x00cf93000000ffff, /* 0x18: data, 4 GiB flat, present, DPL 0 */
	};
	static const uint64_t idt_empty[2];
	uint64_t *pml4 = guest_mem_ptr(m, BOOT_PML4_ADDR, 4096);
	uint64_t *pdpt = guest_mem_ptr(m, BOOT_PDPT_ADDR, 4096);
	uint64_t *pd = guest_mem_ptr(m, BOOT_PD_ADDR, 4 * 4096);

	if (!pml4 || !pdpt || !pd || guest_mem_write(m, BOOT_GDT_ADDR, gdt, sizeof(gdt)) < 0 ||
	    guest_mem_write(m, BOOT_IDT_ADDR, idt_empty, sizeof(idt_empty)) < 0)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT_ADDR | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * 4096) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i * PAGE_2M) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}
