#include <errno.h>
#include <stdlib.h>

#include "model/functable.h"

/* Self value per node: each sample's value goes to its leaf-most frame
 * that is not a marker ("[off-cpu]" time is the blocking function's own). */
static int leaf_self(struct profile *p, int metric, int64_t **out)
{
	int64_t *self = calloc(p->nnodes ? p->nnodes : 1, sizeof(*self));

	if (!self)
		return -ENOMEM;
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct psample *s = &p->samples[i];

		for (uint32_t j = s->nframes; j-- > 0;) {
			int64_t n = profile_frame_node(p, s->frames[j]);

			if (p->frames[s->frames[j]].kind == FRAME_MARKER || n < 0)
				continue;
			self[n] += s->values[metric];
			break;
		}
	}
	*out = self;
	return 0;
}

int profile_function_table(struct profile *p, int metric, const char *extra_key,
			   int extra_metric)
{
	struct ptable *t = profile_table(p, "functions", "Functions");
	const char *unit = p->metrics[metric].unit;
	int64_t sum = profile_metric_total(p, metric), *self = NULL, r = 0;
	int c = 0, err;

	if (!t)
		return -ENOMEM;
	err = leaf_self(p, metric, &self);
	if (err)
		return err;
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

		if (f->kind == FRAME_MARKER)
			continue;
		r = ptable_add_row(t);
		if (r < 0)
			break;
		c = 0;
		ptable_cell(t, r, c++)->d = profile_pct(self[i], sum);
		ptable_cell(t, r, c++)->d = profile_pct(n->total[metric], sum);
		ptable_cell(t, r, c++)->i = self[i];
		ptable_cell(t, r, c++)->i = n->total[metric];
		if (extra_metric >= 0)
			ptable_cell(t, r, c++)->i = n->total[extra_metric];
		ptable_set_str(t, r, c++, pframe_name(f, name, sizeof(name), 0));
		ptable_set_str(t, r, c++, f->module ? f->module : "");
	}
	free(self);
	if (r < 0)
		return (int)r;
	/* By self, and equal self by total: ptable_sort is stable. */
	ptable_sort(t, ptable_col_index(t, "total"), 0);
	ptable_sort(t, t->sort_col, 0);
	return 0;
}
