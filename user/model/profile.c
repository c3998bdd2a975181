/* The profile model: interned frames, merged samples, a call graph, tables,
 * facts and notes.  Frames and samples are indexed by open-addressing hash
 * tables so that large profiles (100k+ samples) stay linear to build. */
#define _GNU_SOURCE
#include "model/profile.h"
#include "util/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* strdup that maps NULL to NULL; *err set on allocation failure. */
static char *dup_or_null(const char *s, int *err)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*err = -ENOMEM;
	return d;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	if (!s)
		return mix(h, 0x5bd1e995);
	uint64_t x = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		x = (x ^ (unsigned char)*s) * 1099511628211ULL;
	return mix(h, x);
}

static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* ---- generic open-addressing index of uint32 ids ---------------------- */

/* Slots hold id + 1 (0 = empty).  The caller supplies hash and equality
 * through the id, so one table type serves frames, samples, nodes, edges. */
struct idx {
	uint32_t *slots;
	size_t cap; /* power of two */
	size_t count;
};

typedef uint64_t (*idx_hash_fn)(const struct profile *p, uint32_t id);

static void idx_free(struct idx *x)
{
	free(x->slots);
	memset(x, 0, sizeof(*x));
}

static int idx_insert_raw(struct idx *x, uint64_t h, uint32_t id)
{
	size_t mask = x->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		if (!x->slots[i]) {
			x->slots[i] = id + 1;
			x->count++;
			return 0;
		}
	}
}

static int idx_reserve(struct idx *x, const struct profile *p, idx_hash_fn hf)
{
	if ((x->count + 1) * 4 < x->cap * 3)
		return 0;
	size_t ncap = x->cap ? x->cap * 2 : 64;
	uint32_t *old = x->slots;
	size_t ocap = x->cap;
	x->slots = calloc(ncap, sizeof(*x->slots));
	if (!x->slots) {
		x->slots = old;
		return -ENOMEM;
	}
	x->cap = ncap;
	x->count = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i])
			idx_insert_raw(x, hf(p, old[i] - 1), old[i] - 1);
	free(old);
	return 0;
}

/* Private indexes of a profile, hung from p->frame_index. */
struct pindex {
	struct idx frames;
	struct idx nodes; /* by node frame */
	struct idx edges; /* by (caller, callee) */
	size_t nodes_indexed, edges_indexed;
	int64_t *frame_node; /* the last graph's node of each sample frame, or -1 */
	size_t nframe_node;
};

static struct pindex *pindex(struct profile *p)
{
	if (!p->frame_index)
		p->frame_index = calloc(1, sizeof(struct pindex));
	return p->frame_index;
}

static struct idx *sindex(struct profile *p)
{
	if (!p->sample_index)
		p->sample_index = calloc(1, sizeof(struct idx));
	return p->sample_index;
}

static uint64_t frame_hash_parts(int kind, const char *func, const char *module, uint64_t offset)
{
	uint64_t h = mix(0, (uint64_t)kind);
	h = hash_str(h, func);
	h = hash_str(h, module);
	return mix(h, offset);
}

static uint64_t frame_hash(const struct profile *p, uint32_t id)
{
	const struct pframe *f = &p->frames[id];
	return frame_hash_parts(f->kind, f->func, f->module, f->offset);
}

static uint64_t stack_hash(const uint32_t *frames, uint32_t n)
{
	uint64_t h = mix(0, n);
	for (uint32_t i = 0; i < n; i++)
		h = mix(h, frames[i]);
	return h;
}

static uint64_t sample_hash(const struct profile *p, uint32_t id)
{
	return stack_hash(p->samples[id].frames, p->samples[id].nframes);
}

static uint64_t node_hash(const struct profile *p, uint32_t id)
{
	return mix(7, p->nodes[id].frame);
}

static uint64_t edge_hash_parts(uint32_t caller, uint32_t callee)
{
	return mix(mix(11, caller), callee);
}

static uint64_t edge_hash(const struct profile *p, uint32_t id)
{
	return edge_hash_parts(p->edges[id].caller, p->edges[id].callee);
}

/* ---- profile ---------------------------------------------------------- */

struct profile *profile_new(const char *report, const char *title)
{
	struct profile *p = calloc(1, sizeof(*p));
	int err = 0;
	if (!p)
		return NULL;
	p->report = dup_or_null(report ? report : "", &err);
	p->title = dup_or_null(title ? title : (report ? report : ""), &err);
	if (err) {
		profile_free(p);
		return NULL;
	}
	return p;
}

static void table_free(struct ptable *t)
{
	if (!t)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		if (t->cols[c].type == COL_STR)
			for (size_t r = 0; r < t->nrows; r++)
				free(t->cells[r * t->ncols + c].s);
		free(t->cols[c].key);
		free(t->cols[c].header);
		free(t->cols[c].unit);
	}
	free(t->cols);
	free(t->cells);
	free(t->name);
	free(t->title);
	free(t);
}

static void graph_clear(struct profile *p)
{
	struct pindex *x = p->frame_index;
	p->nnodes = 0;
	p->nedges = 0;
	if (x) {
		idx_free(&x->nodes);
		idx_free(&x->edges);
		x->nodes_indexed = x->edges_indexed = 0;
		free(x->frame_node);
		x->frame_node = NULL;
		x->nframe_node = 0;
	}
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nmetrics; i++) {
		free(p->metrics[i].name);
		free(p->metrics[i].unit);
		free(p->metrics[i].desc);
	}
	for (size_t i = 0; i < p->nframes; i++) {
		free(p->frames[i].func);
		free(p->frames[i].module);
	}
	free(p->frames);
	for (size_t i = 0; i < p->nsamples; i++)
		free(p->samples[i].frames);
	free(p->samples);
	graph_clear(p);
	free(p->nodes);
	free(p->edges);
	for (size_t i = 0; i < p->ntables; i++)
		table_free(p->tables[i]);
	free(p->tables);
	for (size_t i = 0; i < p->ninfo; i++) {
		free(p->info[i].key);
		free(p->info[i].label);
		free(p->info[i].unit);
		if (p->info[i].type == INFO_STR)
			free(p->info[i].v.s);
	}
	free(p->info);
	strlist_free(&p->notes);
	if (p->frame_index)
		idx_free(&((struct pindex *)p->frame_index)->frames);
	free(p->frame_index);
	if (p->sample_index)
		idx_free(p->sample_index);
	free(p->sample_index);
	free(p->report);
	free(p->title);
	free(p);
}

int profile_add_metric(struct profile *p, const char *name, const char *unit, const char *desc)
{
	if (!p || !name || !*name)
		return -EINVAL;
	if (profile_metric_index(p, name) >= 0)
		return -EEXIST;
	if (p->nmetrics >= PROFILE_MAX_METRICS)
		return -E2BIG;
	int err = 0;
	struct pmetric *m = &p->metrics[p->nmetrics];
	m->name = dup_or_null(name, &err);
	m->unit = dup_or_null(unit ? unit : "", &err);
	m->desc = dup_or_null(desc ? desc : "", &err);
	if (err) {
		free(m->name);
		free(m->unit);
		free(m->desc);
		memset(m, 0, sizeof(*m));
		return err;
	}
	return (int)p->nmetrics++;
}

int64_t profile_metric_total(const struct profile *p, int m)
{
	int64_t sum = 0;
	if (!p || m < 0 || (size_t)m >= p->nmetrics)
		return 0;
	if (p->nsamples) {
		for (size_t i = 0; i < p->nsamples; i++)
			sum += p->samples[i].values[m];
	} else {
		for (size_t i = 0; i < p->nnodes; i++)
			sum += p->nodes[i].self[m];
	}
	return sum;
}

int profile_metric_index(const struct profile *p, const char *name)
{
	if (!p || !name)
		return -EINVAL;
	for (size_t i = 0; i < p->nmetrics; i++)
		if (strcmp(p->metrics[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int64_t profile_frame(struct profile *p, enum frame_kind kind, const char *func, const char *module,
		      uint64_t offset)
{
	if (!p || kind > FRAME_MARKER)
		return -EINVAL;
	/* An address in no known module is stored without one, so every
	 * writer names it 0xaddress (docs/FORMATS.md) and json says null. */
	if (module && !strcmp(module, PROFILE_UNKNOWN_MODULE))
		module = NULL;
	struct pindex *x = pindex(p);
	if (!x)
		return -ENOMEM;
	uint64_t h = frame_hash_parts(kind, func, module, offset);
	if (x->frames.cap) {
		size_t mask = x->frames.cap - 1;
		for (size_t i = h & mask; x->frames.slots[i]; i = (i + 1) & mask) {
			const struct pframe *f = &p->frames[x->frames.slots[i] - 1];
			if (f->kind == kind && f->offset == offset && str_eq(f->func, func) &&
			    str_eq(f->module, module))
				return x->frames.slots[i] - 1;
		}
	}
	if (p->nframes >= UINT32_MAX - 1)
		return -E2BIG;
	int err = array_grow((void **)&p->frames, &p->frames_cap, p->nframes + 1,
			     sizeof(*p->frames));
	if (err || (err = idx_reserve(&x->frames, p, frame_hash)))
		return err;
	struct pframe *f = &p->frames[p->nframes];
	f->func = dup_or_null(func, &err);
	f->module = dup_or_null(module, &err);
	f->offset = offset;
	f->kind = (uint8_t)kind;
	if (err) {
		free(f->func);
		free(f->module);
		memset(f, 0, sizeof(*f));
		return err;
	}
	idx_insert_raw(&x->frames, h, (uint32_t)p->nframes);
	return (int64_t)p->nframes++;
}

int profile_add_sample(struct profile *p, const uint32_t *frames, uint32_t nframes,
		       const int64_t *values)
{
	if (!p || (nframes && !frames) || !values)
		return -EINVAL;
	for (uint32_t i = 0; i < nframes; i++)
		if (frames[i] >= p->nframes)
			return -EINVAL;
	struct idx *x = sindex(p);
	if (!x)
		return -ENOMEM;
	uint64_t h = stack_hash(frames, nframes);
	struct psample *s = NULL;
	if (x->cap) {
		size_t mask = x->cap - 1;
		for (size_t i = h & mask; x->slots[i]; i = (i + 1) & mask) {
			struct psample *c = &p->samples[x->slots[i] - 1];
			if (c->nframes == nframes &&
			    (!nframes || !memcmp(c->frames, frames, nframes * sizeof(*frames)))) {
				s = c;
				break;
			}
		}
	}
	if (!s) {
		if (p->nsamples >= UINT32_MAX - 1)
			return -E2BIG;
		int err = array_grow((void **)&p->samples, &p->samples_cap, p->nsamples + 1,
				     sizeof(*p->samples));
		if (err || (err = idx_reserve(x, p, sample_hash)))
			return err;
		s = &p->samples[p->nsamples];
		memset(s, 0, sizeof(*s));
		if (nframes) {
			s->frames = malloc(nframes * sizeof(*frames));
			if (!s->frames)
				return -ENOMEM;
			memcpy(s->frames, frames, nframes * sizeof(*frames));
		}
		s->nframes = nframes;
		idx_insert_raw(x, h, (uint32_t)p->nsamples);
		p->nsamples++;
	}
	for (size_t m = 0; m < p->nmetrics; m++)
		s->values[m] += values[m];
	return 0;
}

/* ---- call graph ------------------------------------------------------- */

/* Catches up the node and edge indexes with entries appended directly. */
static int graph_index_sync(struct profile *p, struct pindex *x)
{
	int err;
	if (x->nodes_indexed > p->nnodes || x->edges_indexed > p->nedges) {
		idx_free(&x->nodes);
		idx_free(&x->edges);
		x->nodes_indexed = x->edges_indexed = 0;
	}
	for (; x->nodes_indexed < p->nnodes; x->nodes_indexed++) {
		if ((err = idx_reserve(&x->nodes, p, node_hash)))
			return err;
		idx_insert_raw(&x->nodes, node_hash(p, (uint32_t)x->nodes_indexed),
			       (uint32_t)x->nodes_indexed);
	}
	for (; x->edges_indexed < p->nedges; x->edges_indexed++) {
		if ((err = idx_reserve(&x->edges, p, edge_hash)))
			return err;
		idx_insert_raw(&x->edges, edge_hash(p, (uint32_t)x->edges_indexed),
			       (uint32_t)x->edges_indexed);
	}
	return 0;
}

int64_t profile_node(struct profile *p, uint32_t frame)
{
	if (!p || frame >= p->nframes)
		return -EINVAL;
	struct pindex *x = pindex(p);
	int err;
	if (!x)
		return -ENOMEM;
	if ((err = graph_index_sync(p, x)))
		return err;
	uint64_t h = mix(7, frame);
	if (x->nodes.cap) {
		size_t mask = x->nodes.cap - 1;
		for (size_t i = h & mask; x->nodes.slots[i]; i = (i + 1) & mask)
			if (p->nodes[x->nodes.slots[i] - 1].frame == frame)
				return x->nodes.slots[i] - 1;
	}
	if ((err = array_grow((void **)&p->nodes, &p->nodes_cap, p->nnodes + 1, sizeof(*p->nodes))))
		return err;
	memset(&p->nodes[p->nnodes], 0, sizeof(*p->nodes));
	p->nodes[p->nnodes].frame = frame;
	p->nnodes++;
	if ((err = graph_index_sync(p, x)))
		return err;
	return (int64_t)p->nnodes - 1;
}

int64_t profile_edge(struct profile *p, uint32_t caller, uint32_t callee)
{
	if (!p || caller >= p->nnodes || callee >= p->nnodes)
		return -EINVAL;
	struct pindex *x = pindex(p);
	int err;
	if (!x)
		return -ENOMEM;
	if ((err = graph_index_sync(p, x)))
		return err;
	uint64_t h = edge_hash_parts(caller, callee);
	if (x->edges.cap) {
		size_t mask = x->edges.cap - 1;
		for (size_t i = h & mask; x->edges.slots[i]; i = (i + 1) & mask) {
			const struct pedge *e = &p->edges[x->edges.slots[i] - 1];
			if (e->caller == caller && e->callee == callee)
				return x->edges.slots[i] - 1;
		}
	}
	if ((err = array_grow((void **)&p->edges, &p->edges_cap, p->nedges + 1, sizeof(*p->edges))))
		return err;
	memset(&p->edges[p->nedges], 0, sizeof(*p->edges));
	p->edges[p->nedges].caller = caller;
	p->edges[p->nedges].callee = callee;
	p->nedges++;
	if ((err = graph_index_sync(p, x)))
		return err;
	return (int64_t)p->nedges - 1;
}

/* The node of a frame is its function: frames of the same function at
 * different offsets share the frame interned with offset 0.  User frames
 * of a file without a symbol there are one node per module, "[module]"
 * (docs/FORMATS.md); other frames without a function name (an anonymous
 * mapping's addresses) are their own node. */
static int64_t function_node(struct profile *p, uint32_t frame)
{
	const struct pframe *f = &p->frames[frame];
	if (!f->func && f->kind == FRAME_USER && f->module && f->module[0] != '[') {
		struct strbuf name = { 0 };
		char *module = f->module;
		int64_t fr = strbuf_addf(&name, "[%s]", module);
		if (!fr)
			fr = profile_frame(p, FRAME_USER, name.s, module, 0);
		strbuf_free(&name);
		if (fr < 0)
			return fr;
		frame = (uint32_t)fr;
	} else if (f->func && f->offset) {
		char *func = f->func, *module = f->module;
		int64_t fr = profile_frame(p, f->kind, func, module, 0);
		if (fr < 0)
			return fr;
		frame = (uint32_t)fr;
	}
	return profile_node(p, frame);
}

int profile_build_graph(struct profile *p)
{
	if (!p)
		return -EINVAL;
	graph_clear(p);
	size_t nframes0 = p->nframes;
	int64_t *node_of = malloc((nframes0 ? nframes0 : 1) * sizeof(*node_of));
	if (!node_of)
		return -ENOMEM;
	for (size_t i = 0; i < nframes0; i++)
		node_of[i] = -1;
	/* Stamps: last sample that counted a node / an edge. */
	size_t *nstamp = NULL, nstamp_cap = 0, *estamp = NULL, estamp_cap = 0;
	int err = 0;

	for (size_t si = 0; si < p->nsamples && !err; si++) {
		const struct psample *s = &p->samples[si];
		int64_t prev = -1;
		for (uint32_t k = 0; k < s->nframes; k++) {
			uint32_t fr = s->frames[k];
			if (node_of[fr] < 0) {
				int64_t n = function_node(p, fr);
				if (n < 0) {
					err = (int)n;
					break;
				}
				node_of[fr] = n;
			}
			int64_t n = node_of[fr];
			if ((err = array_grow((void **)&nstamp, &nstamp_cap, p->nnodes,
					      sizeof(*nstamp))))
				break;
			struct pnode *nd = &p->nodes[n];
			if (nstamp[n] != si + 1) {
				nstamp[n] = si + 1;
				for (size_t m = 0; m < p->nmetrics; m++)
					nd->total[m] += s->values[m];
			}
			if (k + 1 == s->nframes)
				for (size_t m = 0; m < p->nmetrics; m++)
					nd->self[m] += s->values[m];
			if (prev >= 0) {
				int64_t e = profile_edge(p, (uint32_t)prev, (uint32_t)n);
				if (e < 0) {
					err = (int)e;
					break;
				}
				if ((err = array_grow((void **)&estamp, &estamp_cap, p->nedges,
						      sizeof(*estamp))))
					break;
				if (estamp[e] != si + 1) {
					estamp[e] = si + 1;
					for (size_t m = 0; m < p->nmetrics; m++)
						p->edges[e].total[m] += s->values[m];
				}
			}
			prev = n;
		}
	}
	free(nstamp);
	free(estamp);
	if (err) {
		free(node_of);
		graph_clear(p);
		return err;
	}
	struct pindex *x = pindex(p);
	if (!x) {
		free(node_of);
		return -ENOMEM;
	}
	x->frame_node = node_of;
	x->nframe_node = nframes0;
	return 0;
}

int64_t profile_frame_node(const struct profile *p, uint32_t frame)
{
	const struct pindex *x = p ? p->frame_index : NULL;
	return x && frame < x->nframe_node ? x->frame_node[frame] : -1;
}

/* ---- tables ----------------------------------------------------------- */

struct ptable *profile_table(struct profile *p, const char *name, const char *title)
{
	if (!p || !name)
		return NULL;
	struct ptable *t = profile_find_table(p, name);
	if (t)
		return t;
	struct ptable **n = realloc(p->tables, (p->ntables + 1) * sizeof(*n));
	if (!n)
		return NULL;
	p->tables = n;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	int err = 0;
	t->name = dup_or_null(name, &err);
	t->title = dup_or_null(title ? title : name, &err);
	t->sort_col = -1;
	if (err) {
		table_free(t);
		return NULL;
	}
	p->tables[p->ntables++] = t;
	return t;
}

struct ptable *profile_table_def(struct profile *p, const struct ptable_def *def,
				 const char *metric_unit)
{
	struct ptable *t;

	if (!def || profile_find_table(p, def->name))
		return NULL;
	t = profile_table(p, def->name, def->title);
	if (!t)
		return NULL;
	for (size_t c = 0; c < def->ncols; c++) {
		const struct pcol_def *d = &def->cols[c];

		if (ptable_add_col(t, d->key, d->header, d->unit ? d->unit : metric_unit, d->type) <
		    0)
			return NULL;
		t->cols[c].text_hidden = d->text_hidden;
		t->cols[c].text_skip = d->text_skip && d->type == COL_INT;
		if (d->sort_as > 0 && (size_t)d->sort_as <= def->ncols)
			t->cols[c].sort_as = d->sort_as;
	}
	t->sort_col = def->sort_col;
	t->sort_asc = def->sort_asc;
	return t;
}

int profile_add_metric_defs(struct profile *p, const struct pmetric_def *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = profile_add_metric(p, m[i].name, m[i].unit, m[i].desc);

		if (r < 0)
			return r;
	}
	return 0;
}

struct ptable *profile_find_table(const struct profile *p, const char *name)
{
	if (!p || !name)
		return NULL;
	for (size_t i = 0; i < p->ntables; i++)
		if (strcmp(p->tables[i]->name, name) == 0)
			return p->tables[i];
	return NULL;
}

int ptable_add_col(struct ptable *t, const char *key, const char *header, const char *unit,
		   enum col_type type)
{
	if (!t || !key || type > COL_DOUBLE)
		return -EINVAL;
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->cols[c].key, key) == 0)
			return -EEXIST;
	/* Everything that can fail before the table changes shape. */
	int err = 0;
	struct pcol c = {
		.key = dup_or_null(key, &err),
		.header = dup_or_null(header ? header : key, &err),
		.unit = dup_or_null(unit ? unit : "", &err),
		.type = type,
	};
	size_t nc = t->ncols + 1;
	union pcell *cells = NULL;
	struct pcol *cols = NULL;
	if (!err && t->cap && !(cells = calloc(t->cap, nc * sizeof(*cells))))
		err = -ENOMEM;
	if (!err && !(cols = realloc(t->cols, nc * sizeof(*cols))))
		err = -ENOMEM;
	if (err) {
		free(cells);
		free(c.key);
		free(c.header);
		free(c.unit);
		return err;
	}
	t->cols = cols;
	if (cells) {
		/* Existing rows: re-layout with the new column zeroed. */
		for (size_t r = 0; r < t->nrows; r++)
			memcpy(&cells[r * nc], &t->cells[r * t->ncols], t->ncols * sizeof(*cells));
		free(t->cells);
		t->cells = cells;
	}
	t->cols[t->ncols] = c;
	t->ncols++;
	return (int)t->ncols - 1;
}

void ptable_hide_col(struct ptable *t, size_t col)
{
	if (t && col < t->ncols)
		t->cols[col].text_hidden = 1;
}

void ptable_skip_rows_by(struct ptable *t, size_t col)
{
	if (t && col < t->ncols && t->cols[col].type == COL_INT)
		t->cols[col].text_skip = 1;
}

int ptable_text_skips(const struct ptable *t, size_t r)
{
	for (size_t c = 0; t && r < t->nrows && c < t->ncols; c++)
		if (t->cols[c].text_skip && t->cells[r * t->ncols + c].i)
			return 1;
	return 0;
}

void ptable_sort_as(struct ptable *t, size_t col, size_t by)
{
	if (t && col < t->ncols && by < t->ncols)
		t->cols[col].sort_as = (int)by + 1;
}

int64_t ptable_add_row(struct ptable *t)
{
	if (!t || !t->ncols)
		return -EINVAL;
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		union pcell *cells = realloc(t->cells, ncap * t->ncols * sizeof(*cells));
		if (!cells)
			return -ENOMEM;
		t->cells = cells;
		t->cap = ncap;
	}
	memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(*t->cells));
	return (int64_t)t->nrows++;
}

union pcell *ptable_cell(struct ptable *t, size_t row, size_t col)
{
	if (!t || row >= t->nrows || col >= t->ncols)
		return NULL;
	return &t->cells[row * t->ncols + col];
}

int ptable_set_str(struct ptable *t, size_t row, size_t col, const char *s)
{
	union pcell *c = ptable_cell(t, row, col);
	if (!c || t->cols[col].type != COL_STR)
		return -EINVAL;
	int err = 0;
	char *d = dup_or_null(s, &err);
	if (err)
		return err;
	free(c->s);
	c->s = d;
	return 0;
}

int ptable_col_index(const struct ptable *t, const char *key)
{
	if (!t || !key)
		return -EINVAL;
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->cols[c].key, key) == 0)
			return (int)c;
	return -ENOENT;
}

struct sort_ctx {
	const struct ptable *t;
	int col, asc;
};

static int row_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	size_t ra = *(const size_t *)a, rb = *(const size_t *)b;
	const union pcell *x = &c->t->cells[ra * c->t->ncols + c->col];
	const union pcell *y = &c->t->cells[rb * c->t->ncols + c->col];
	int r = 0;
	switch (c->t->cols[c->col].type) {
	case COL_STR: r = strcmp(x->s ? x->s : "", y->s ? y->s : ""); break;
	case COL_INT:
		r = (x->i > y->i) - (x->i < y->i);
		if (!c->asc)
			r = -r;
		break;
	case COL_DOUBLE:
		r = (x->d > y->d) - (x->d < y->d);
		if (!c->asc)
			r = -r;
		break;
	}
	return r ? r : (ra > rb) - (ra < rb); /* stable */
}

void ptable_sort(struct ptable *t, int col, int asc)
{
	if (!t || col < 0 || (size_t)col >= t->ncols || t->nrows < 2)
		return;
	if (t->cols[col].sort_as)
		col = t->cols[col].sort_as - 1;
	size_t *order = malloc(t->nrows * sizeof(*order));
	union pcell *cells = malloc(t->nrows * t->ncols * sizeof(*cells));
	if (!order || !cells) {
		free(order);
		free(cells);
		return;
	}
	for (size_t r = 0; r < t->nrows; r++)
		order[r] = r;
	struct sort_ctx ctx = { t, col, asc };
	qsort_r(order, t->nrows, sizeof(*order), row_cmp, &ctx);
	for (size_t r = 0; r < t->nrows; r++)
		memcpy(&cells[r * t->ncols], &t->cells[order[r] * t->ncols],
		       t->ncols * sizeof(*cells));
	memcpy(t->cells, cells, t->nrows * t->ncols * sizeof(*cells));
	free(cells);
	free(order);
}

/* ---- info and notes --------------------------------------------------- */

static struct pinfo *info_slot(struct profile *p, const char *key, const char *label,
			       const char *unit, enum info_type type, int *err)
{
	if (!p || !key) {
		*err = -EINVAL;
		return NULL;
	}
	struct pinfo *in = (struct pinfo *)profile_get_info(p, key);
	char *l = dup_or_null(label ? label : key, err);
	char *u = dup_or_null(unit ? unit : "", err);
	if (!*err && !in) {
		struct pinfo *n = realloc(p->info, (p->ninfo + 1) * sizeof(*n));
		if (!n) {
			*err = -ENOMEM;
		} else {
			p->info = n;
			in = &p->info[p->ninfo];
			memset(in, 0, sizeof(*in));
			in->key = dup_or_null(key, err);
			if (!*err)
				p->ninfo++;
			else
				in = NULL;
		}
	}
	if (*err) {
		free(l);
		free(u);
		return NULL;
	}
	free(in->label);
	free(in->unit);
	if (in->type == INFO_STR)
		free(in->v.s);
	in->label = l;
	in->unit = u;
	in->type = type;
	memset(&in->v, 0, sizeof(in->v));
	return in;
}

int profile_info_int(struct profile *p, const char *key, const char *label, const char *unit,
		     int64_t v)
{
	int err = 0;
	struct pinfo *in = info_slot(p, key, label, unit, INFO_INT, &err);
	if (in)
		in->v.i = v;
	return err;
}

int profile_info_double(struct profile *p, const char *key, const char *label, const char *unit,
			double v)
{
	int err = 0;
	struct pinfo *in = info_slot(p, key, label, unit, INFO_DOUBLE, &err);
	if (in)
		in->v.d = v;
	return err;
}

int profile_info_str(struct profile *p, const char *key, const char *label, const char *v)
{
	int err = 0;
	char *s = dup_or_null(v ? v : "", &err);
	if (err)
		return err;
	struct pinfo *in = info_slot(p, key, label, "", INFO_STR, &err);
	if (!in) {
		free(s);
		return err;
	}
	in->v.s = s;
	return 0;
}

const struct pinfo *profile_get_info(const struct profile *p, const char *key)
{
	if (!p || !key)
		return NULL;
	for (size_t i = 0; i < p->ninfo; i++)
		if (strcmp(p->info[i].key, key) == 0)
			return &p->info[i];
	return NULL;
}

int profile_note(struct profile *p, const char *fmt, ...)
{
	if (!p || !fmt)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	int err = strlist_vaddf(&p->notes, fmt, ap);
	va_end(ap);
	return err;
}

/* ---- names ------------------------------------------------------------ */

const char *pframe_str(const struct pframe *f, struct strbuf *b, int with_offset)
{
	if (!f)
		return "[unknown]";
	if (f->func && !(with_offset && f->offset && f->kind != FRAME_MARKER))
		return f->func;
	strbuf_reset(b);
	int err;
	if (f->func)
		err = strbuf_addf(b, "%s+0x%llx", f->func, (unsigned long long)f->offset);
	else if (f->module)
		err = strbuf_addf(b, "%s+0x%llx", f->module, (unsigned long long)f->offset);
	else
		err = strbuf_addf(b, "0x%llx", (unsigned long long)f->offset);
	return err ? NULL : b->s;
}

const struct profile *profile_find_report(const struct profile *const *p, size_t n,
					  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] && p[i]->report && !strcmp(p[i]->report, name))
			return p[i];
	return NULL;
}
