/* Probe layer: LIB:GLOB patterns -> the functions to place uprobes on
 * (file + offset), found in the target's executable or its shared
 * libraries; close matches named when nothing matches.  Any collector
 * that places uprobes resolves its patterns here. */
#ifndef EBPROF_PROBE_RESOLVE_H
#define EBPROF_PROBE_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"

/* One function to probe. */
struct uprobe_target {
	char *name;	 /* symbol name */
	char *module;	 /* basename of the file */
	char *path;	 /* file to attach to, as ebprof sees it */
	uint64_t offset; /* file offset of the entry (what uprobes take) */
};

struct uprobe_targets {
	struct uprobe_target *v;
	size_t n, cap;
	size_t dropped;	      /* matches beyond the limit, not probed */
	struct strlist notes; /* facts for the report ("fell back to .dynsym"), each once */
};

/* Where the target's files are: pid for /proc/PID/{maps,root}, exe, and
 * whether it is launched but not yet exec'd (libraries then come from the
 * executable's DT_NEEDED and the library search path). */
struct uprobe_where {
	pid_t pid;
	const char *exe;      /* as the target names it (module name, DT_NEEDED) */
	const char *exe_open; /* as ebprof opens and probes it */
	int launched;
};

/* Resolves every pattern (GLOB over the executable's functions, or
 * LIB:GLOB over a shared library's) into out, deduplicated by file and
 * offset; matches beyond max are counted in out->dropped.  On failure
 * prints one line and returns a negative errno: -ENOENT (no match, with
 * close matches named; library not found), -EACCES/-EIO (unreadable
 * binary). */
int uprobe_resolve(const struct uprobe_where *w, const char *const *patterns, size_t npatterns,
		   size_t max, struct uprobe_targets *out);
void uprobe_targets_free(struct uprobe_targets *t);

/* The functions names[0..n) of the file the target binds anchor (say
 * "malloc") to, in the dynamic linker's order: the executable itself
 * (static, or a bundled allocator), then LD_PRELOAD libraries, then
 * DT_NEEDED breadth first; lib (NULL: that order) names the file instead
 * (--allocator).  A name the file does not define, or an alias of one
 * already found (same address), is left out; out's targets carry the
 * names given.  Fails with one line and a negative errno when no file
 * defines anchor. */
int uprobe_resolve_provider(const struct uprobe_where *w, const char *lib, const char *anchor,
			    const char *const *names, size_t n, struct uprobe_targets *out);

/* uprobe_resolve_provider in the dynamic linker's order, quiet: -ENOENT
 * without a line when no file defines anchor (C++'s operator new of a C
 * program). */
int uprobe_resolve_optional(const struct uprobe_where *w, const char *anchor,
			    const char *const *names, size_t n, struct uprobe_targets *out);

/* The file the target binds name to, in the same order, as out's one
 * target; quiet: -ENOENT without a line when no file in that order defines
 * it (a function only a dlopen'ed library has). */
int uprobe_resolve_binding(const struct uprobe_where *w, const char *name,
			   struct uprobe_targets *out);

/* Splits "LIB:GLOB" (1, *lib and *glob point into buf) or plain GLOB (0,
 * *lib NULL).  "a::b" is a plain glob. */
int uprobe_split_pattern(const char *pattern, char *buf, size_t len, const char **lib,
			 const char **glob);
/* 1 when the file at path is the library named want: a path, a file name
 * ("libc.so.6"), or a short name ("libc", "c") matching "libc.so*" or
 * "libc-*.so". */
int uprobe_lib_matches(const char *path, const char *want);
/* 1 when a uprobe cannot be placed on the instruction starting at b (n
 * bytes of it at most): on x86-64 a lock or ES/CS/SS/DS prefix, or a VEX
 * encoding.  Matching functions that start so are left out, with a note,
 * rather than failing the whole attach. */
int uprobe_insn_unprobeable(const uint8_t *b, size_t n);
/* Levenshtein distance, capped at 255. */
unsigned uprobe_edit_distance(const char *a, const char *b);
/* Writes up to max names from names[] that look like glob (substring of the
 * glob's literal text, or small edit distance), best first, as
 * "a, b, c" into buf.  Returns how many were written. */
size_t uprobe_suggest(const char *glob, const char *const *names, size_t n, char *buf, size_t len,
		      size_t max);

#endif
