/* Perf maps: the symbols a JIT or interpreter writes for code it generates
 * in anonymous executable memory (/tmp/perf-PID.map, written by
 * `node --perf-basic-prof`, Python 3.12 `-X perf`, perf-map-agent).  One
 * entry a line, "START SIZE NAME": hex start and size (0x optional), the
 * name to the end of the line.  The file belongs to the target: its size is
 * bounded, malformed lines are skipped and counted, values that overflow
 * are malformed.  A JIT appends as it compiles: the file is read again from
 * where the last read stopped when it has grown. */
#ifndef EBPROF_PERFMAP_H
#define EBPROF_PERFMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Bytes of a perf map read at most; the rest is ignored (and reported). */
#define PERFMAP_MAX_BYTES (32u << 20)
/* A line longer than this is malformed. */
#define PERFMAP_LINE_MAX 4096u

struct perfmap;

struct perfmap *perfmap_new(void);
/* Parses the complete lines of text (a last line without '\n' too when
 * final), adding their entries; returns the bytes consumed (the complete
 * lines).  -ENOMEM (entries added so far stay). */
ssize_t perfmap_add_text(struct perfmap *pm, const char *text, size_t len, int final);
/* Reads what fd (the perf map file) holds beyond what was read before, up
 * to PERFMAP_MAX_BYTES in all; a file that shrank is read again from the
 * start.  0 or negative errno. */
int perfmap_update_fd(struct perfmap *pm, int fd);
/* Name of the entry covering addr (the latest entry when a JIT reused the
 * address), *off the offset into it; NULL when none covers it. */
const char *perfmap_lookup(const struct perfmap *pm, uint64_t addr, uint64_t *off);
size_t perfmap_count(const struct perfmap *pm);
size_t perfmap_bad(const struct perfmap *pm);	 /* malformed lines skipped */
int perfmap_truncated(const struct perfmap *pm); /* PERFMAP_MAX_BYTES reached */
void perfmap_free(struct perfmap *pm);

/* The perf map path of pid as the target sees it ("/tmp/perf-NSPID.map",
 * NSPID the pid in the target's own namespace).  0 or negative errno. */
int perfmap_path(pid_t pid, char *buf, size_t size);

#endif
