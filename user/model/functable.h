/* The function table of a stack profile (cpu, and later mem): self and
 * inclusive share of one metric per function, in the spirit of pstats and
 * `perf report --children`.  Shared by every sampling collector. */
#ifndef EBPROF_FUNCTABLE_H
#define EBPROF_FUNCTABLE_H

#include "model/profile.h"

/* The columns a function table can have, for a collector's ptable_def:
 * the shares and values of the table's metric first, then any column
 * naming another metric (pcol_def.metric: its inclusive value), then the
 * function and its module.  Units left NULL are the metric's. */
#define FUNCTABLE_VALUE_COLS                                            \
	{ "self_pct", "self%", "%", COL_DOUBLE, 0, 0, NULL },           \
		{ "total_pct", "total%", "%", COL_DOUBLE, 0, 0, NULL }, \
		{ "self", "self", NULL, COL_INT, 0, 0, NULL },          \
	{                                                               \
		"total", "total", NULL, COL_INT, 0, 0, NULL             \
	}
#define FUNCTABLE_NAME_COLS                                 \
	{ "name", "function", "", COL_STR, 0, 0, NULL },    \
	{                                                   \
		"module", "module", "", COL_STR, 0, 0, NULL \
	}

/* Builds table def (columns from FUNCTABLE_*) from p's graph
 * (profile_build_graph first) for `metric`.  Self is the graph's: a
 * stack's value belongs to its leaf frame, a marker ("[off-cpu]") as much
 * as a function, as in every writer (docs/FORMATS.md).  Rows with nothing
 * of the metric are left out.  Default sort: self, then total,
 * descending.  0 or negative errno. */
int profile_function_table(struct profile *p, const struct ptable_def *def, int metric);

#endif
