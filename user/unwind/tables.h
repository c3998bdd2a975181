/* The unwind tables of one target process in a BPF object's maps
 * (include/unwind.h, the maps of bpf/unwind.bpf.h): the rows of every file the target maps executable
 * (built once per file with cfi.c, kept across refreshes, keyed by device
 * and inode), and the sorted mapping lookup address -> file + load bias.
 * Refreshed from /proc/PID/maps as the target maps new code; one set per
 * run, owned by user/unwind/share.c. */
#ifndef EBPROF_UNWIND_TABLES_H
#define EBPROF_UNWIND_TABLES_H

#include <stdint.h>
#include <sys/types.h>

#include "unwind.h"

struct unwind_tables;

struct procmaps;

/* The BPF maps of bpf/unwind.bpf.h the tables are written to. */
struct unwind_tables_opts {
	int rows_fd;	       /* unwind_rows: an array of maps, a file's rows at its index */
	int files_fd, maps_fd; /* arrays: unwind_files, unwind_maps */
	int nmaps_fd;	       /* unwind_nmaps: unwind_maps' set in use, its count */
};

struct unwind_tables_stats {
	uint64_t build_ns;	/* building all tables so far */
	uint64_t bytes;		/* rows loaded */
	uint64_t files;		/* files with rows */
	uint64_t too_large;	/* files left out: over a row limit */
	uint64_t mappings_left; /* executable mappings over UNWIND_MAX_MAPPINGS */
};

/* A new array of n rows, of the kind unwind_rows holds (a template of
 * it for unwind_rows' own creation): its fd, or negative errno. */
int unwind_tables__rows_map(uint32_t n);
/* Tables writing into o's maps (which outlive them); nothing read yet. */
int unwind_tables__new(const struct unwind_tables_opts *o, struct unwind_tables **out);
/* From pm, a reading of /proc/PID/maps: builds and loads the tables of
 * files not seen before (found under /proc/PID/root), rewrites the
 * mapping lookup.  0 or negative errno. */
int unwind_tables__update(struct unwind_tables *t, pid_t pid, const struct procmaps *pm);
void unwind_tables__stats(const struct unwind_tables *t, struct unwind_tables_stats *st);
void unwind_tables__free(struct unwind_tables *t);

#endif
