/* One ELF file's call frame information (.eh_frame, else .debug_frame of
 * the file or of its debug file found by build-id), read with elfutils'
 * libdw, as the compact sorted rows the BPF stack walker follows
 * (include/unwind.h): pc -> CFA rule, rbp rule, STOP where the return
 * address is undefined (_start, clone), FP where the CFI is something the
 * walker cannot follow (a CFA expression), PLT for the standard lazy
 * .plt expression, SIGNAL for a signal frame
 * (the FDE's 'S' augmentation), NONE where no CFI covers the executable
 * code. */
#ifndef EBPROF_CFI_H
#define EBPROF_CFI_H

#include <stddef.h>

#include "unwind.h"

struct cfi_table {
	struct unwind_row *rows; /* sorted by pc, no two neighbours alike */
	size_t n;
	const char *source; /* "eh_frame", "debug_frame", or NULL: no CFI */
	struct {
		unsigned long vaddr, offset, filesz;
	} loads[16]; /* PT_LOAD segments, for cfi_table_bias */
	size_t nloads;
};

/* Builds the rows of path (root, when not NULL, prefixes the debug file
 * lookup: a container's /proc/PID/root).  A file without CFI gives 0 rows
 * and source NULL.  -E2BIG when it needs more than UNWIND_MAX_FILE_ROWS
 * rows or has code above 4 GiB; other negative errnos when it cannot be
 * read as ELF. */
int cfi_table_build(const char *path, const char *root, struct cfi_table *out);
/* The same for an ELF image in memory (the vdso), copied first. */
int cfi_table_build_image(const void *image, size_t size, struct cfi_table *out);
/* The row in effect at link-time address pc, or NULL (below the first). */
const struct unwind_row *cfi_table_find(const struct cfi_table *t, unsigned long pc);
/* The load bias of a mapping of the file at map_start of file offset
 * map_off (address - bias = link-time address).  0, or -ENOENT when no
 * segment holds that offset. */
int cfi_table_bias(const struct cfi_table *t, unsigned long map_start, unsigned long map_off,
		   unsigned long *bias);
/* Unmaps t's rows once they are loaded (n, source and loads stay). */
void cfi_table_drop_rows(struct cfi_table *t);
void cfi_table_free(struct cfi_table *t);

#endif
