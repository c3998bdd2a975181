/* Function symbols of one ELF file (libelf): .symtab, else .dynsym, plus
 * the program headers needed to turn file offsets into symbol addresses,
 * and the PLT stubs named after the functions they call. */
#ifndef EBPROF_ELFSYM_H
#define EBPROF_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

#include <gelf.h>

/* The first section of e of that type (SHT_NULL: of any type that has
 * data in the file) and, unless name is NULL, that name; NULL if none. */
Elf_Scn *elffile_section(Elf *e, uint32_t type, const char *name);
/* The first program header of e of that type into *out: 1, or 0 if none. */
int elffile_segment(Elf *e, uint32_t type, GElf_Phdr *out);

struct elfsym {
	char *name;
	uint64_t addr; /* st_value (link-time virtual address) */
	uint64_t size;
};

enum elfsym_source { ELFSYM_NONE = 0, ELFSYM_SYMTAB, ELFSYM_DYNSYM, ELFSYM_DEBUGLINK };

struct elffile {
	char *path;
	int is_pie_or_dyn;	 /* ET_DYN */
	uint64_t load_bias_base; /* lowest PT_LOAD p_vaddr - p_offset (page aligned) */
	struct {
		uint64_t vaddr, offset, filesz, memsz;
		uint32_t flags;
	} loads[16];
	size_t nloads;
	struct elfsym *syms; /* sorted by addr, FUNC symbols, deduplicated */
	size_t nsyms;
	/* PLT stubs, sorted by addr, not symbols of the file (so not in
	 * syms, which name what can be probed): "name@plt" for each stub of
	 * .plt, .plt.sec and .plt.got, from the relocation of the GOT slot
	 * it jumps through (.rela.plt's placed by their slot's address in
	 * DT_PLTGOT's table; an ifunc's by its resolver's symbol; .plt.got's
	 * by the slot its jump reads); "[plt]" for the lazy binding code: .plt's
	 * first entry, or, with IBT's .plt.sec in front of it, all of .plt
	 * (which only a function's first call runs). */
	struct elfsym *plt;
	size_t nplt;
	enum elfsym_source source;
	char build_id[41]; /* hex, "" when absent */
	char *debuglink;   /* .gnu_debuglink file name, or NULL */
};

/* Opens and reads path.  When the file has no .symtab and a debug file is
 * found (/usr/lib/debug/.build-id/xx/yyyy.debug, or the debuglink next to
 * the file, in .debug/, or under /usr/lib/debug<dir>), its .symtab is used
 * and source is ELFSYM_DEBUGLINK.  root, when not NULL, prefixes the debug
 * lookups (a container's /proc/PID/root).  0 or negative errno. */
int elffile_open(const char *path, const char *root, struct elffile **out);
void elffile_free(struct elffile *f);
/* Same from an open descriptor (not closed); path names the file and its
 * directory for the debug lookups. */
int elffile_open_fd(int fd, const char *path, const char *root, struct elffile **out);
/* From an image in memory (the vdso); no debug lookups. */
int elffile_open_mem(void *image, size_t size, const char *name, struct elffile **out);
/* Order of preference between two names of one address: <0 when a is the
 * better name (global before local, fewer leading underscores, shorter,
 * then alphabetical). */
int elfsym_name_cmp(const char *a, int a_global, const char *b, int b_global);

/* The report's line about where the symbols of f (module names it) came
 * from, in buf: a fall-back to .dynsym, a separate debug file, no symbols
 * at all (f NULL: the file could not be read).  NULL, buf untouched, for
 * a file's own .symtab: nothing to say.  Shared by every report that
 * symbolizes. */
const char *elffile_source_note(const struct elffile *f, const char *module, char *buf, size_t len);

/* Symbol or PLT stub containing addr (link-time address), or NULL. */
const struct elfsym *elffile_lookup(const struct elffile *f, uint64_t addr);
/* File offset -> link-time virtual address, via the PT_LOAD segments.
 * Returns 0 on success. */
int elffile_offset_to_addr(const struct elffile *f, uint64_t off, uint64_t *addr);
/* Link-time virtual address -> file offset (what uprobes take). */
int elffile_addr_to_offset(const struct elffile *f, uint64_t addr, uint64_t *off);

#endif
