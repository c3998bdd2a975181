#include <errno.h>

#include "functable.h"

int profile_function_table(struct profile *p, int metric, const char *extra_key,
			   int extra_metric)
{
	struct ptable *t = profile_table(p, "functions", "Functions");
	const char *unit = p->metrics[metric].unit;
	int64_t sum = 0;
	int c = 0;

	if (!t)
		return -ENOMEM;
	/* The whole: every sample's value once. */
	for (size_t i = 0; i < p->nsamples; i++)
		sum += p->samples[i].values[metric];
	ptable_add_col(t, "self_pct", "self%", "%", COL_DOUBLE);
	ptable_add_col(t, "total_pct", "total%", "%", COL_DOUBLE);
	ptable_add_col(t, "self", "self", unit, COL_INT);
	ptable_add_col(t, "total", "total", unit, COL_INT);
	if (extra_metric >= 0)
		ptable_add_col(t, extra_key, extra_key, p->metrics[extra_metric].unit, COL_INT);
	ptable_add_col(t, "name", "function", "", COL_STR);
	ptable_add_col(t, "module", "module", "", COL_STR);
	t->sort_col = 0;
	for (size_t i = 0; i < p->nnodes; i++) {
		const struct pnode *n = &p->nodes[i];
		const struct pframe *f = &p->frames[n->frame];
		char name[512];
		int64_t r;

		if (f->kind == FRAME_MARKER)
			continue;
		r = ptable_add_row(t);
		if (r < 0)
			return (int)r;
		c = 0;
		ptable_cell(t, r, c++)->d = sum ? 100.0 * (double)n->self[metric] / (double)sum : 0;
		ptable_cell(t, r, c++)->d = sum ? 100.0 * (double)n->total[metric] / (double)sum : 0;
		ptable_cell(t, r, c++)->i = n->self[metric];
		ptable_cell(t, r, c++)->i = n->total[metric];
		if (extra_metric >= 0)
			ptable_cell(t, r, c++)->i = n->total[extra_metric];
		ptable_set_str(t, r, c++, pframe_name(f, name, sizeof(name), 0));
		ptable_set_str(t, r, c++, f->module ? f->module : "");
	}
	ptable_sort(t, t->sort_col, 0);
	return 0;
}
