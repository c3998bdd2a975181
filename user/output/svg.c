/* svg: a self-contained interactive flame graph of one metric (Debian
 * ships no flamegraph.pl).  Stacks are merged from the root by function
 * name; each frame is a <g> with its share of the total (data-x, data-w)
 * and depth (data-d), laid out in C for viewers without scripts and again
 * by the embedded script (output/svg_script.h) for zoom, search and the
 * icicle/flame toggle.  User frames warm, kernel frames teal, off-CPU
 * frames (markers and what only off-CPU stacks reach) blue.  The
 * differential graph of ebprof diff has AFTER's widths, and colours each
 * frame by its change from BEFORE: red grew, blue shrank, white the same. */
#define _GNU_SOURCE /* qsort_r */
#include "output/diff.h"
#include "output/strtab.h"
#include "output/svg_script.h"
#include "output/writer.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 1200
#define FRAME_H 16
#define MIN_SHARE 1e-4 /* frames narrower than this share of the total are left out */

struct snode {
	int64_t name; /* strtab index */
	uint8_t kind;
	int64_t value, off;   /* off: the part from off-CPU stacks */
	int64_t before;	      /* differential: the value in BEFORE */
	uint32_t child, next; /* first child, next sibling: index + 1, 0 none */
};

struct stree {
	struct snode *v;
	size_t n, cap;
	struct strtab names;
	uint32_t depth;
};

static int64_t child_of(struct stree *t, size_t parent, int64_t name, uint8_t kind)
{
	uint32_t c;

	for (c = t->v[parent].child; c; c = t->v[c - 1].next)
		if (t->v[c - 1].name == name && t->v[c - 1].kind == kind)
			return c - 1;
	if (array_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)))
		return -ENOMEM;
	t->v[t->n] = (struct snode){ .name = name, .kind = kind, .next = t->v[parent].child };
	t->v[parent].child = (uint32_t)++t->n;
	return (int64_t)t->n - 1;
}

/* Adds p's stacks with metric m to the tree: their values, or with
 * before the BEFORE values of a differential graph. */
static int build_tree(struct stree *t, const struct profile *p, int m, int before)
{
	struct strbuf name = { 0 };
	int err = 0;

	if (!t->n) {
		if (array_grow((void **)&t->v, &t->cap, 1, sizeof(*t->v)) ||
		    strtab_add(&t->names, "all"))
			return -ENOMEM;
		t->v[0] = (struct snode){ 0 };
		t->n = 1;
	}
	for (size_t i = 0; i < p->nsamples && !err; i++) {
		const struct psample *s = &p->samples[i];
		int64_t v = s->values[m], node = 0;
		int off = s->nframes && p->frames[s->frames[s->nframes - 1]].kind == FRAME_MARKER;

		if (v <= 0)
			continue;
		*(before ? &t->v[0].before : &t->v[0].value) += v;
		t->v[0].off += off && !before ? v : 0;
		for (uint32_t k = 0; k < s->nframes; k++) {
			const struct pframe *f = &p->frames[s->frames[k]];
			const char *nms = fmt_sanitized(&name, pframe_str(f, &name, 0), NULL);
			int64_t nm;

			if (!nms || (nm = strtab_add(&t->names, nms)) < 0 ||
			    (node = child_of(t, (size_t)node, nm, f->kind)) < 0) {
				err = -ENOMEM;
				break;
			}
			*(before ? &t->v[node].before : &t->v[node].value) += v;
			t->v[node].off += off && !before ? v : 0;
		}
		if (s->nframes > t->depth)
			t->depth = s->nframes;
	}
	strbuf_free(&name);
	return err;
}

static void xml_str(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*s, out);
		}
	}
}

static unsigned name_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Differential: red by how much the frame grew, blue by how much it
 * shrank, relative to the larger of its two values. */
static void diff_colour(char *buf, size_t len, const struct snode *n)
{
	int64_t big = n->value > n->before ? n->value : n->before;
	double r = big > 0 ? (double)(n->value - n->before) / (double)big : 0;
	unsigned k = (unsigned)(220 * (r < 0 ? -r : r));

	if (r >= 0)
		snprintf(buf, len, "rgb(255,%u,%u)", 255 - k, 255 - k);
	else
		snprintf(buf, len, "rgb(%u,%u,255)", 255 - k, 255 - k);
}

static void colour(char *buf, size_t len, const struct snode *n, const char *name)
{
	unsigned h = name_hash(name);
	unsigned a = h % 56, b = (h >> 8) % 56, c = (h >> 16) % 200;

	if (n->kind == FRAME_MARKER || (n->off && n->off == n->value))
		snprintf(buf, len, "rgb(%u,%u,%u)", 60 + a, 110 + b, 200 + (c % 56));
	else if (n->kind == FRAME_KERNEL)
		snprintf(buf, len, "rgb(%u,%u,%u)", a, 150 + b, 150 + (c % 56));
	else
		snprintf(buf, len, "rgb(%u,%u,%u)", 200 + a, 30 + c, b);
}

struct svg_ctx {
	FILE *out;
	const struct stree *t;
	const char *unit, *metric;
	int64_t total;
	int height;
	int diff; /* a differential graph: before values, change colours */
};

static int by_name(const void *x, const void *y, void *arg)
{
	const struct stree *t = arg;
	const struct snode *a = &t->v[*(const uint32_t *)x], *b = &t->v[*(const uint32_t *)y];

	return strcmp(t->names.v[a->name], t->names.v[b->name]);
}

static int write_node(const struct svg_ctx *c, size_t i, double x, uint32_t depth)
{
	const struct snode *n = &c->t->v[i];
	const char *name = c->t->names.v[n->name];
	double w = (double)n->value / (double)c->total, px = x * (WIDTH - 20),
	       pw = w * (WIDTH - 20);
	char val[64], fill[32], change[160] = "";
	uint32_t kids[4096], nk = 0;
	int y = c->height - 40 - (int)(depth + 1) * FRAME_H, r = 0;

	if (w < MIN_SHARE)
		return 0;
	fmt_value(val, sizeof(val), n->value, c->unit);
	if (c->diff) {
		char b[48], d[48];

		fmt_value(b, sizeof(b), n->before, c->unit);
		fmt_value(d, sizeof(d), n->value - n->before, c->unit);
		snprintf(change, sizeof(change), "; before %s, change %s%s", b,
			 n->value > n->before ? "+" : "", d);
		diff_colour(fill, sizeof(fill), n);
	} else {
		colour(fill, sizeof(fill), n, name);
	}
	fprintf(c->out, "<g class=\"f\" data-x=\"%.10f\" data-w=\"%.10f\" data-d=\"%u\" data-n=\"",
		x, w, depth);
	xml_str(c->out, name);
	fprintf(c->out, "\" data-info=\"");
	xml_str(c->out, name);
	fprintf(c->out, " (%s %s, %.2f%%%s)\"><title>", val, c->metric, 100 * w, change);
	xml_str(c->out, name);
	fprintf(c->out,
		" (%s %s, %.2f%%%s)</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		"fill=\"%s\" rx=\"2\"/><text x=\"%.1f\" y=\"%d\"></text></g>\n",
		val, c->metric, 100 * w, change, 10 + px, y, pw > 0.8 ? pw - 0.5 : 0.3, FRAME_H - 1,
		fill, 13 + px, y + FRAME_H - 4);
	for (uint32_t k = n->child; k && nk < ARRAY_SIZE(kids); k = c->t->v[k - 1].next)
		kids[nk++] = k - 1;
	qsort_r(kids, nk, sizeof(*kids), by_name, (void *)c->t);
	for (uint32_t k = 0; k < nk && !r; k++) {
		r = write_node(c, kids[k], x, depth + 1);
		x += (double)c->t->v[kids[k]].value / (double)c->total;
	}
	return r;
}

static void write_header(const struct svg_ctx *c, const struct profile *p)
{
	FILE *out = c->out;
	char total[64];

	fmt_value(total, sizeof(total), c->total, c->unit);
	fprintf(out,
		"<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" onload=\"init(evt)\">\n",
		WIDTH, c->height, WIDTH, c->height);
	fputs("<style>" SVG_STYLE "</style>\n<script><![CDATA[\n" SVG_SCRIPT "]]></script>\n", out);
	fprintf(out,
		"<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f8f8f8\" "
		"onclick=\"unzoom()\"/>\n"
		"<text x=\"%d\" y=\"24\" text-anchor=\"middle\" style=\"font-size:16px\">",
		WIDTH / 2);
	fputs(c->diff ? "diff: " : "", out);
	xml_str(out, p->title ? p->title : p->report);
	fprintf(out, ": %s (total %s)</text>\n", c->metric, total);
	fprintf(out,
		"<text id=\"reset\" class=\"btn\" x=\"10\" y=\"24\" onclick=\"unzoom()\">Reset "
		"zoom</text>\n"
		"<text id=\"toggle\" class=\"btn\" x=\"%d\" y=\"24\" "
		"onclick=\"toggle()\">Icicle</text>\n"
		"<text id=\"search\" class=\"btn\" x=\"%d\" y=\"24\" "
		"onclick=\"search()\">Search</text>\n"
		"<text id=\"details\" x=\"10\" y=\"%d\"> </text>\n"
		"<text id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"> </text>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\" style=\"font-size:10px\">%s; click: "
		"zoom</text>\n<g id=\"frames\">\n",
		WIDTH - 180, WIDTH - 80, c->height - 12, WIDTH - 10, c->height - 12, WIDTH - 10,
		c->height - 26,
		c->diff ? "widths: AFTER; red: grew, blue: shrank" :
			  "user: warm, kernel: teal, off-CPU: blue");
}

/* The graph of tree t (p: its report, m: the metric) to out. */
static int render(FILE *out, struct stree *t, const struct profile *p, int m, int diff)
{
	struct svg_ctx c = { .out = out,
			     .t = t,
			     .unit = p->metrics[m].unit,
			     .metric = p->metrics[m].name,
			     .total = t->v[0].value,
			     .height = (int)(t->depth + 1) * FRAME_H + 90,
			     .diff = diff };
	int r = 0;

	write_header(&c, p);
	if (c.total > 0)
		r = write_node(&c, 0, 0, 0);
	fprintf(out, "</g>\n</svg>\n");
	return r;
}

/* The stack report of profiles and its metric (--metric or default); NULL
 * with a line on err. */
static const struct profile *pick(const struct profile *const *profiles, size_t n,
				  const char *metric, int *m, FILE *err)
{
	const struct profile *p = writer_one_graph(profiles, n, "svg", err);

	if (!p)
		return NULL;
	if (!p->nsamples) {
		fprintf(err, "ebprof: format svg needs stacks: report %s has none\n", p->report);
		return NULL;
	}
	*m = writer_pick_metric(p, metric, err);
	return *m >= 0 ? p : NULL;
}

/* The graph of p's metric m, differential against before's metric mb
 * when before is not NULL. */
static int draw(FILE *out, const struct profile *p, int m, const struct profile *before, int mb)
{
	struct stree t = { 0 };
	int r = build_tree(&t, p, m, 0);

	if (!r && before)
		r = build_tree(&t, before, mb, 1);
	if (!r)
		r = render(out, &t, p, m, before != NULL);
	free(t.v);
	strtab_free(&t.names);
	return r ? r : ferror(out) ? -EIO : 0;
}

static int svg_write(FILE *out, const struct profile *const *profiles, size_t n,
		     const struct write_opts *o, FILE *err)
{
	int m;
	const struct profile *p = pick(profiles, n, o ? o->metric : NULL, &m, err);

	return p ? draw(out, p, m, NULL, -1) : -EINVAL;
}

int diff_write_svg(FILE *out, const struct profile *const *before, size_t nb,
		   const struct profile *const *after, size_t na, const char *metric, FILE *err)
{
	int m, mb;
	const struct profile *a = pick(after, na, metric, &m, err), *b;

	if (!a)
		return -EINVAL;
	b = profile_find_report(before, nb, a->report);
	mb = b ? profile_metric_index(b, a->metrics[m].name) : -1;
	if (mb < 0) {
		fprintf(err, "ebprof: diff --format svg: BEFORE has no %s report with metric %s\n",
			a->report, a->metrics[m].name);
		return -EINVAL;
	}
	return draw(out, a, m, b, mb);
}

const struct writer writer_svg = {
	.name = "svg",
	.desc = "interactive flame graph (self-contained SVG)",
	.one_report = 1,
	.write = svg_write,
};
