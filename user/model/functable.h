/* The function table of a stack profile (cpu, and later mem): self and
 * inclusive share of one metric per function, in the spirit of pstats and
 * `perf report --children`.  Shared by every sampling collector. */
#ifndef EBPROF_FUNCTABLE_H
#define EBPROF_FUNCTABLE_H

#include "model/profile.h"

/* Builds table "functions" from p's graph (profile_build_graph first):
 * self%, total% and self/total of `metric`, plus the inclusive value of
 * `extra_metric` (e.g. on-CPU samples; -1 for none) under column key
 * extra_key.  Default sort: self, descending.  Markers are left out. */
int profile_function_table(struct profile *p, int metric, const char *extra_key,
			   int extra_metric);

#endif
