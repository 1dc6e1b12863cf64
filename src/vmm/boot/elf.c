/* ELF64 kernels and test guests: PT_LOAD segments go to their physical address (p_paddr),
 * PT_NOTE segments may mark a Capsule test guest or carry a PVH entry point. */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "layout.h"
#include "loader.h"

#define ELF_MAX_PHDRS 256          /* vmlinux has a handful; a bound keeps a hostile header cheap */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define CAPSULE_NOTE_TYPE 1

bool elf_is_elf(const uint8_t *img, size_t len)
{
	return len >= 4 && memcmp(img, ELFMAG, SELFMAG) == 0;
}

/* [off, off+n) lies within a buffer of len bytes (overflow-safe). */
static bool in_bounds(uint64_t off, uint64_t n, uint64_t len)
{
	return off <= len && n <= len - off;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~3ULL;
}

/* Walk the notes in [p, p+n). A note whose sizes run past its segment is refused: the Capsule
 * note decides how the image boots, and a mangled one silently booted as a plain kernel idled forever. */
static int scan_notes(const char *fname, const uint8_t *p, uint64_t n, struct elf_info *info, cap_err *err)
{
	uint64_t off = 0;

	while (n - off >= 12) {
		uint32_t namesz = rd32(p + off), descsz = rd32(p + off + 4), type = rd32(p + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + align4(namesz);
		uint64_t next = desc_off + align4(descsz);
		if (desc_off > n || next > n || !in_bounds(desc_off, descsz, n))
			return cap_errf(err, 0,
					"kernel %s: corrupt ELF: note at offset %llu (namesz %u, descsz %u) runs past its %llu-byte note segment",
					fname, (unsigned long long)off, namesz, descsz, (unsigned long long)n);
		const char *name = (const char *)p + name_off;
		if (namesz == 8 && memcmp(name, "Capsule", 8) == 0 && type == CAPSULE_NOTE_TYPE)
			info->capsule_note = true;
		if (namesz == 4 && memcmp(name, "Xen", 4) == 0 && type == XEN_ELFNOTE_PHYS32_ENTRY &&
		    descsz >= 4) {
			info->has_pvh = true;
			info->pvh_entry = rd32(p + desc_off);
		}
		off = next;
	}
	return 0;
}

static int check_segment(struct guest_mem *m, const char *name, const Elf64_Phdr *ph, size_t len, cap_err *err)
{
	if (ph->p_filesz > ph->p_memsz)
		return cap_errf(err, 0, "kernel %s: corrupt ELF: segment at 0x%llx has a file size larger than its memory size",
				name, (unsigned long long)ph->p_paddr);
	if (!in_bounds(ph->p_offset, ph->p_filesz, len))
		return cap_errf(err, 0, "kernel %s: truncated ELF: segment at 0x%llx extends past the end of the file",
				name, (unsigned long long)ph->p_paddr);
	if (ph->p_paddr < BOOT_HIGH_MEM_START)
		return cap_errf(err, 0, "kernel %s: segment at 0x%llx is below 1 MiB, where the loader keeps its tables",
				name, (unsigned long long)ph->p_paddr);
	if (m && !guest_mem_ptr(m, ph->p_paddr, ph->p_memsz))
		return cap_errf(err, 0,
				"kernel %s: segment at 0x%llx (%llu KiB) does not fit in guest memory (%llu MiB)", name,
				(unsigned long long)ph->p_paddr, (unsigned long long)(ph->p_memsz >> 10),
				(unsigned long long)(m->total >> 20));
	return 0;
}

int elf_load(struct guest_mem *m, const char *name, const uint8_t *img, size_t len, struct elf_info *info,
	     cap_err *err)
{
	Elf64_Ehdr eh;

	memset(info, 0, sizeof(*info));
	if (len < sizeof(eh))
		return cap_errf(err, 0, "kernel %s: truncated ELF header", name);
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return cap_errf(err, 0, "kernel %s: not an ELF or bzImage kernel", name);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return cap_errf(err, 0, "kernel %s: not an x86-64 ELF (class %u, data %u, machine %u)", name,
				eh.e_ident[EI_CLASS], eh.e_ident[EI_DATA], eh.e_machine);
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return cap_errf(err, 0, "kernel %s: ELF type %u is not an executable", name, eh.e_type);
	if (eh.e_phnum == 0 || eh.e_phnum > ELF_MAX_PHDRS || eh.e_phentsize < sizeof(Elf64_Phdr))
		return cap_errf(err, 0, "kernel %s: corrupt ELF: %u program headers of %u bytes", name, eh.e_phnum,
				eh.e_phentsize);
	if (!in_bounds(eh.e_phoff, (uint64_t)eh.e_phnum * eh.e_phentsize, len))
		return cap_errf(err, 0, "kernel %s: truncated ELF: program headers extend past the end of the file",
				name);

	/* Pass 1: validate everything, so a bad image leaves guest memory untouched. */
	int nload = 0;
	info->start = UINT64_MAX;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + (uint64_t)i * eh.e_phentsize, sizeof(ph));
		if (ph.p_type == PT_NOTE) {
			/* Refused, not skipped: the notes decide how the image boots (test guest, PVH). */
			if (!in_bounds(ph.p_offset, ph.p_filesz, len))
				return cap_errf(err, 0,
						"kernel %s: truncated ELF: note segment at offset %llu (%llu bytes) extends past the end of the file (%zu bytes)",
						name, (unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz, len);
			int r = scan_notes(name, img + ph.p_offset, ph.p_filesz, info, err);
			if (r < 0)
				return r;
			continue;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		int r = check_segment(m, name, &ph, len, err);
		if (r < 0)
			return r;
		if (ph.p_memsz > UINT64_MAX - ph.p_paddr)
			return cap_errf(err, 0, "kernel %s: corrupt ELF: segment wraps around the address space", name);
		if (ph.p_paddr < info->start)
			info->start = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > info->end)
			info->end = ph.p_paddr + ph.p_memsz;
		nload++;
	}
	if (nload == 0)
		return cap_errf(err, 0, "kernel %s: ELF has no loadable segment", name);
	info->entry = eh.e_entry;
	if (info->entry < info->start || info->entry >= info->end)
		return cap_errf(err, 0, "kernel %s: entry point 0x%llx is outside its loaded segments (0x%llx-0x%llx)",
				name, (unsigned long long)info->entry, (unsigned long long)info->start,
				(unsigned long long)info->end);
	if (!m)
		return 0;

	/* Pass 2: copy. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + (uint64_t)i * eh.e_phentsize, sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		uint8_t *dst = guest_mem_ptr(m, ph.p_paddr, ph.p_memsz);
		if (!dst) /* checked above; kept so the copy never depends on pass 1 alone */
			return cap_errf(err, EFAULT, "kernel %s: segment at 0x%llx", name, (unsigned long long)ph.p_paddr);
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		if (!m->fresh)
			memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	return 0;
}
