#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/functable.h"

/* Value of column def for node i: 0 or -ENOMEM. */
static int fill_cell(struct profile *p, struct ptable *t, int64_t r, size_t c,
		     const struct pcol_def *def, int metric, size_t i, int64_t self, int64_t sum)
{
	const struct pnode *n = &p->nodes[i];
	const struct pframe *f = &p->frames[n->frame];
	struct strbuf name = { 0 };
	const char *s;
	int m, err = 0;

	if (def->metric) {
		m = profile_metric_index(p, def->metric);
		ptable_cell(t, (size_t)r, c)->i = m >= 0 ? n->total[m] : 0;
	} else if (!strcmp(def->key, "self_pct")) {
		ptable_cell(t, (size_t)r, c)->d = profile_pct(self, sum);
	} else if (!strcmp(def->key, "total_pct")) {
		ptable_cell(t, (size_t)r, c)->d = profile_pct(n->total[metric], sum);
	} else if (!strcmp(def->key, "self")) {
		ptable_cell(t, (size_t)r, c)->i = self;
	} else if (!strcmp(def->key, "total")) {
		ptable_cell(t, (size_t)r, c)->i = n->total[metric];
	} else if (!strcmp(def->key, "name")) {
		s = pframe_str(f, &name, 0);
		err = s ? ptable_set_str(t, (size_t)r, c, s) : -ENOMEM;
		strbuf_free(&name);
	} else if (!strcmp(def->key, "module")) {
		err = ptable_set_str(t, (size_t)r, c, f->module ? f->module : "");
	}
	return err;
}

int profile_function_table(struct profile *p, const struct ptable_def *def, int metric)
{
	struct ptable *t = profile_table(p, def->name, def->title);
	const char *unit = p->metrics[metric].unit;
	int64_t sum = profile_metric_total(p, metric), r = 0;
	int err = 0;

	if (!t)
		return -ENOMEM;
	for (size_t c = 0; c < def->ncols && !err; c++) {
		const struct pcol_def *d = &def->cols[c];
		int m = d->metric ? profile_metric_index(p, d->metric) : metric;
		const char *u = d->unit ? d->unit : m >= 0 ? p->metrics[m].unit : unit;

		err = ptable_add_col(t, d->key, d->header, u, d->type) < 0 ? -ENOMEM : 0;
	}
	t->sort_col = def->sort_col;
	/* A function with nothing of this metric is not in its table. */
	for (size_t i = 0; i < p->nnodes && !err; i++) {
		if (!p->nodes[i].total[metric])
			continue;
		r = ptable_add_row(t);
		if (r < 0)
			break;
		for (size_t c = 0; c < def->ncols && !err; c++)
			err = fill_cell(p, t, r, c, &def->cols[c], metric, i,
					p->nodes[i].self[metric], sum);
	}
	if (err || r < 0)
		return err ? err : (int)r;
	/* By self, and equal self by total: ptable_sort is stable. */
	ptable_sort(t, ptable_col_index(t, "total"), 0);
	if (t->sort_col >= 0)
		ptable_sort(t, t->sort_col, 0);
	return 0;
}
