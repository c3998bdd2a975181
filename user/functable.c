#include <errno.h>
#include <stdlib.h>

#include "functable.h"

/* Self value per node: each sample's value goes to its leaf-most frame
 * that is not a marker ("[off-cpu]" time is the blocking function's own). */
static int leaf_self(struct profile *p, int metric, int64_t **out)
{
	int64_t *self = calloc(p->nnodes ? p->nnodes : 1, sizeof(*self));
	size_t nframes = p->nframes;
	int64_t *node_of = calloc(nframes ? nframes : 1, sizeof(*node_of));

	if (!self || !node_of) {
		free(self);
		free(node_of);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->nframes; i++)
		node_of[i] = -1;
	for (size_t i = 0; i < p->nnodes; i++)
		node_of[p->nodes[i].frame] = (int64_t)i;
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct psample *s = &p->samples[i];

		for (uint32_t j = s->nframes; j-- > 0;) {
			int64_t f = s->frames[j];
			const struct pframe *pf = &p->frames[f];

			if (pf->kind == FRAME_MARKER)
				continue;
			/* The graph keys functions by their offset-0 frame. */
			if (pf->func && pf->offset)
				f = profile_frame(p, pf->kind, pf->func, pf->module, 0);
			if (f < 0 || (size_t)f >= nframes || node_of[f] < 0)
				continue;
			self[node_of[f]] += s->values[metric];
			break;
		}
	}
	free(node_of);
	*out = self;
	return 0;
}

static const struct profile *sort_p;
static int sort_metric;

static int by_total_desc(const void *a, const void *b)
{
	int64_t x = sort_p->nodes[*(const size_t *)a].total[sort_metric];
	int64_t y = sort_p->nodes[*(const size_t *)b].total[sort_metric];

	return (x < y) - (x > y);
}

int profile_function_table(struct profile *p, int metric, const char *extra_key,
			   int extra_metric)
{
	struct ptable *t = profile_table(p, "functions", "Functions");
	const char *unit = p->metrics[metric].unit;
	int64_t sum = profile_metric_total(p, metric), *self = NULL, r = 0;
	size_t *order;
	int c = 0, err;

	if (!t)
		return -ENOMEM;
	err = leaf_self(p, metric, &self);
	if (err)
		return err;
	order = malloc((p->nnodes ? p->nnodes : 1) * sizeof(*order));
	if (!order) {
		free(self);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->nnodes; i++)
		order[i] = i;
	sort_p = p;
	sort_metric = metric;
	qsort(order, p->nnodes, sizeof(*order), by_total_desc);
	ptable_add_col(t, "self_pct", "self%", "%", COL_DOUBLE);
	ptable_add_col(t, "total_pct", "total%", "%", COL_DOUBLE);
	ptable_add_col(t, "self", "self", unit, COL_INT);
	ptable_add_col(t, "total", "total", unit, COL_INT);
	if (extra_metric >= 0)
		ptable_add_col(t, extra_key, extra_key, p->metrics[extra_metric].unit, COL_INT);
	ptable_add_col(t, "name", "function", "", COL_STR);
	ptable_add_col(t, "module", "module", "", COL_STR);
	t->sort_col = 0;
	/* Rows in total order, so equal self values keep it (stable sort). */
	for (size_t k = 0; k < p->nnodes; k++) {
		size_t i = order[k];
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
	free(order);
	if (r < 0)
		return (int)r;
	ptable_sort(t, t->sort_col, 0);
	return 0;
}
