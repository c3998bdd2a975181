/* The unwind tables of one target process in a BPF object's maps
 * (include/unwind.h, the maps of bpf/unwind.bpf.h): the rows of every file the target maps executable
 * (built once per file with cfi.c, kept across refreshes, keyed by device
 * and inode), and the sorted mapping lookup address -> file + load bias.
 * Refreshed from /proc/PID/maps as the target maps new code. */
#ifndef EBPROF_UNWIND_TABLES_H
#define EBPROF_UNWIND_TABLES_H

#include <stdint.h>
#include <sys/types.h>

#include "unwind.h"

struct unwind_tables;

struct unwind_tables_opts {
	int rows_fd, files_fd, maps_fd; /* BPF arrays: unwind_rows, unwind_files, unwind_maps */
	__u32 *nmaps;			/* the BPF side's count of unwind_maps entries */
};

/* The tables' maps of any skeleton whose object includes bpf/unwind.bpf.h
 * (after its load). */
#define UNWIND_TABLES_OPTS(skel)                                    \
	((struct unwind_tables_opts){                               \
		.rows_fd = bpf_map__fd((skel)->maps.unwind_rows),   \
		.files_fd = bpf_map__fd((skel)->maps.unwind_files), \
		.maps_fd = bpf_map__fd((skel)->maps.unwind_maps),   \
		.nmaps = &(skel)->bss->unwind_nmaps,                \
	})

struct unwind_tables_stats {
	uint64_t build_ns;	/* building all tables so far */
	uint64_t bytes;		/* rows loaded */
	uint64_t files;		/* files with rows */
	uint64_t too_large;	/* files left out: over a row limit */
	uint64_t mappings_left; /* executable mappings over UNWIND_MAX_MAPPINGS */
};

int unwind_tables__new(const struct unwind_tables_opts *o, struct unwind_tables **out);
/* A collector's tables for its --unwind mode: *out NULL with
 * UNWIND_MODE_FP; else new tables, loaded now for a running target (a
 * launched one gets them at its first update after exec).  0, or a
 * negative errno with one line printed. */
int unwind_tables__open(const struct unwind_tables_opts *o, enum unwind_mode mode, pid_t pid,
			int launched, struct unwind_tables **out);
/* Reads the mappings of pid, builds and loads the tables of files not
 * seen before, rewrites the mapping lookup.  0 or negative errno (-ESRCH:
 * gone; the last lookup stays). */
int unwind_tables__update(struct unwind_tables *t, pid_t pid);
void unwind_tables__stats(const struct unwind_tables *t, struct unwind_tables_stats *st);
void unwind_tables__free(struct unwind_tables *t);

#endif
