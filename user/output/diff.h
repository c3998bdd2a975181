/* Rendering two runs' comparison (ebprof diff): text tables of the
 * changes (model/diff.h), the two-column folded diff of a stack metric
 * that differential flame graph tools read, or a differential svg. */
#ifndef EBPROF_OUTPUT_DIFF_H
#define EBPROF_OUTPUT_DIFF_H

#include <stdio.h>

#include "model/diff.h"
#include "model/profile.h"

/* Totals, then per table its rows (at most limit; 0 = all), each with
 * one line per compared column: before, after, change, change%. */
int diff_write_text(FILE *out, const struct diff *d, int limit);
/* "stack before after" for every stack of either run, per report with
 * stacks in both (metric: --metric, else the after report's default);
 * -EINVAL with a line on err when none has. */
int diff_write_folded(FILE *out, const struct profile *const *before, size_t nb,
		      const struct profile *const *after, size_t na, const char *metric, FILE *err);

/* The differential flame graph (output/svg.c) of the one stack report of
 * after against the same report of before: AFTER's widths, red grew, blue
 * shrank; -EINVAL with a line on err when they cannot be compared. */
int diff_write_svg(FILE *out, const struct profile *const *before, size_t nb,
		   const struct profile *const *after, size_t na, const char *metric, FILE *err);

#endif
