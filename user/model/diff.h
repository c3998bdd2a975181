/* Two runs compared: for every report and table both have, each row
 * (matched by its naming columns, model/rowkey.h) with the change of each
 * numeric column, rows sorted by regression (the largest growth of the
 * table's sort column first); and each metric's total before and after. */
#ifndef EBPROF_DIFF_H
#define EBPROF_DIFF_H

#include <stddef.h>

#include "model/profile.h"

struct diff_cell {
	const char *col, *unit; /* borrowed from the after profile */
	double before, after;	/* 0 for a row missing on that side */
};

struct diff_row {
	char *key;
	int in_before, in_after;
	double rank; /* change of the table's sort column */
	struct diff_cell *cells;
};

struct diff_table {
	const char *report, *name, *title, *rank_col;
	size_t ncells; /* cells per row */
	struct diff_row *rows;
	size_t nrows;
};

struct diff_total {
	const char *report, *metric, *unit;
	int64_t before, after;
};

struct diff {
	struct diff_table *tables;
	size_t ntables;
	struct diff_total *totals;
	size_t ntotals;
};

/* 0 or -ENOMEM; out is freed by diff_free either way. */
int diff_build(const struct profile *const *before, size_t nb, const struct profile *const *after,
	       size_t na, struct diff *out);
void diff_free(struct diff *d);
/* The change as a percentage of before (0 when both are 0; +-inf is
 * never returned: a value from nothing is 100%). */
double diff_pct(double before, double after);

#endif
