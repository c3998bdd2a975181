/* Address -> module, function, offset for one target process.  Mappings are
 * read at creation and on every refresh; mappings that disappear are kept
 * (so a target that exits, or unmaps a library, is still symbolized), and
 * ELF data is cached until symbolizer_free(). */
#ifndef EBPROF_SYMBOLIZE_H
#define EBPROF_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct symbolizer;
struct procmaps;

struct symres {
	/* NULL when no symbol covers the address; a C++ name demangled
	 * (symbolizer_set_demangle), a PLT stub "name@plt" (elfsym.h) */
	const char *func;
	const char *module; /* basename, "[kernel]", "[vdso]", "[unknown]" */
	const char *path;   /* full path as the target sees it, or NULL */
	uint64_t offset;    /* into func when func != NULL, else into module */
};

/* pid 0: kernel only.  Reads /proc/PID/maps now.  0 or negative errno
 * (-ESRCH: no such process). */
int symbolizer_new(pid_t pid, struct symbolizer **out);
/* Re-reads /proc/PID/maps, adding new mappings.  -ESRCH once gone (old
 * mappings stay usable). */
int symbolizer_refresh(struct symbolizer *s);
/* The same from a reading of /proc/PID/maps already made (one reading
 * serves the run's unwind tables and its symbolizer). */
int symbolizer_update(struct symbolizer *s, const struct procmaps *pm);
/* on 0: names as the files spell them (--no-demangle); 1 (the default):
 * mangled names demangled (symbols/demangle.h). */
void symbolizer_set_demangle(struct symbolizer *s, int on);
/* Always fills *r (unknown addresses get module "[unknown]", func NULL). */
void symbolize_user(struct symbolizer *s, uint64_t addr, struct symres *r);
void symbolize_kernel(struct symbolizer *s, uint64_t addr, struct symres *r);
/* 1 when addr is inside an executable mapping of the target (one seen at
 * any refresh), 0 when outside every one; 1 for a kernel-only symbolizer,
 * which cannot tell. */
int symbolizer_in_exec_map(const struct symbolizer *s, uint64_t addr);
/* Calls fn with the line elffile_source_note() has for every file-backed
 * module an address was symbolized in (each once, in the order its file was first mapped):
 * where its symbols came from when not its own .symtab. */
void symbolizer_source_notes(struct symbolizer *s, void (*fn)(void *ctx, const char *line),
			     void *ctx);
/* Starts a new set of modules for symbolizer_source_notes (a symbolizer
 * shared by several reports: each one's notes name its own modules). */
void symbolizer_forget_used(struct symbolizer *s);
/* The target's perf map (JIT symbols): entries read, malformed lines
 * skipped, 1 when its size bound was reached. */
void symbolizer_perfmap_stats(const struct symbolizer *s, size_t *entries, size_t *bad,
			      int *truncated);
void symbolizer_free(struct symbolizer *s);

#endif
