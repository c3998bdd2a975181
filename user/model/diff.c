/* Comparing two runs' profiles, table by table and metric by metric. */
#include "model/diff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/rowkey.h"

#define KEY_MAX 1024

double diff_pct(double before, double after)
{
	if (before == 0)
		return after == 0 ? 0 : after > 0 ? 100 : -100;
	return 100.0 * (after - before) / (before < 0 ? -before : before);
}

/* The columns compared: numeric (or formatted with a number behind
 * them), shown in text, naming nothing, present in both tables. */
static int compared(const struct ptable *a, const struct ptable *b, size_t c)
{
	const struct pcol *col = &a->cols[c];

	if (col->text_hidden || rowkey_is_key(col) || ptable_col_index(b, col->key) < 0)
		return 0;
	return col->type != COL_STR || col->sort_as > 0;
}

static int row_of(const struct ptable *t, const char *key)
{
	char k[KEY_MAX];

	for (size_t r = 0; r < t->nrows; r++) {
		rowkey_format(t, r, k, sizeof(k));
		if (!strcmp(k, key))
			return (int)r;
	}
	return -1;
}

static double value(const struct ptable *t, int r, const char *col)
{
	double v = 0;

	if (r >= 0)
		rowkey_number(t, (size_t)r, (size_t)ptable_col_index(t, col), &v);
	return v;
}

static int add_row(struct diff_table *d, const struct ptable *b, const struct ptable *a,
		   const size_t *cols, const char *key, int rb, int ra)
{
	struct diff_row *rows = realloc(d->rows, (d->nrows + 1) * sizeof(*rows)), *r;

	if (!rows)
		return -ENOMEM;
	d->rows = rows;
	r = &rows[d->nrows];
	memset(r, 0, sizeof(*r));
	r->key = strdup(key);
	r->cells = calloc(d->ncells ? d->ncells : 1, sizeof(*r->cells));
	d->nrows++;
	if (!r->key || !r->cells)
		return -ENOMEM;
	r->in_before = rb >= 0;
	r->in_after = ra >= 0;
	for (size_t i = 0; i < d->ncells; i++) {
		struct diff_cell *c = &r->cells[i];

		c->col = a->cols[cols[i]].key;
		c->unit = a->cols[cols[i]].unit;
		c->before = value(b, rb, c->col);
		c->after = value(a, ra, c->col);
		if (d->rank_col && !strcmp(c->col, d->rank_col))
			r->rank = c->after - c->before;
	}
	return 0;
}

static int by_rank(const void *x, const void *y)
{
	const struct diff_row *a = x, *b = y;

	if (a->rank != b->rank)
		return a->rank > b->rank ? -1 : 1;
	return strcmp(a->key, b->key);
}

static int is_cost(const struct pcol *c)
{
	return c->unit && (!strcmp(c->unit, "ns") || !strcmp(c->unit, "bytes"));
}

/* What a regression is measured by: the table's sort column when it is a
 * time or size, else its first time or size column, else the sort column
 * or the first compared one. */
static const char *rank_col(const struct ptable *a, const size_t *cols, size_t n)
{
	const char *sort = NULL, *cost = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct pcol *c = &a->cols[cols[i]];

		if (a->sort_col >= 0 && cols[i] == (size_t)a->sort_col)
			sort = c->key;
		if (is_cost(c) && (!cost || (sort == c->key)))
			cost = c->key;
	}
	return cost ? cost : sort ? sort : n ? a->cols[cols[0]].key : NULL;
}

static int diff_table(struct diff *d, const char *report, const struct ptable *b,
		      const struct ptable *a)
{
	size_t *cols = calloc(a->ncols ? a->ncols : 1, sizeof(*cols)), n = 0;
	struct diff_table *tables = realloc(d->tables, (d->ntables + 1) * sizeof(*tables)), *t;
	char key[KEY_MAX];
	int r = 0;

	if (tables)
		d->tables = tables;
	if (!cols || !tables) {
		free(cols);
		return -ENOMEM;
	}
	for (size_t c = 0; c < a->ncols; c++)
		if (compared(a, b, c))
			cols[n++] = c;
	t = &d->tables[d->ntables++];
	*t = (struct diff_table){ .report = report,
				  .name = a->name,
				  .title = a->title,
				  .ncells = n,
				  .rank_col = rank_col(a, cols, n) };
	for (size_t i = 0; i < a->nrows && !r; i++) {
		rowkey_format(a, i, key, sizeof(key));
		r = add_row(t, b, a, cols, key, row_of(b, key), (int)i);
	}
	for (size_t i = 0; i < b->nrows && !r; i++) {
		rowkey_format(b, i, key, sizeof(key));
		if (row_of(a, key) < 0)
			r = add_row(t, b, a, cols, key, (int)i, -1);
	}
	free(cols);
	if (!r && t->nrows)
		qsort(t->rows, t->nrows, sizeof(*t->rows), by_rank);
	return r;
}

static int diff_totals(struct diff *d, const struct profile *b, const struct profile *a)
{
	for (size_t m = 0; m < a->nmetrics; m++) {
		int mb = profile_metric_index(b, a->metrics[m].name);
		struct diff_total *t;

		if (mb < 0)
			continue;
		t = realloc(d->totals, (d->ntotals + 1) * sizeof(*t));
		if (!t)
			return -ENOMEM;
		d->totals = t;
		d->totals[d->ntotals++] = (struct diff_total){
			.report = a->report,
			.metric = a->metrics[m].name,
			.unit = a->metrics[m].unit,
			.before = profile_metric_total(b, mb),
			.after = profile_metric_total(a, (int)m),
		};
	}
	return 0;
}

int diff_build(const struct profile *const *before, size_t nb, const struct profile *const *after,
	       size_t na, struct diff *out)
{
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < na && !r; i++) {
		const struct profile *a = after[i],
				     *b = a ? profile_find_report(before, nb, a->report) : NULL;

		if (!b)
			continue;
		r = diff_totals(out, b, a);
		for (size_t k = 0; k < a->ntables && !r; k++) {
			const struct ptable *tb = profile_find_table(b, a->tables[k]->name);

			if (tb)
				r = diff_table(out, a->report, tb, a->tables[k]);
		}
	}
	return r;
}

void diff_free(struct diff *d)
{
	for (size_t i = 0; i < d->ntables; i++) {
		for (size_t r = 0; r < d->tables[i].nrows; r++) {
			free(d->tables[i].rows[r].key);
			free(d->tables[i].rows[r].cells);
		}
		free(d->tables[i].rows);
	}
	free(d->tables);
	free(d->totals);
	memset(d, 0, sizeof(*d));
}
