/* Graphviz call graph in the style of gprof2dot: one box per function with
 * its total and self share of the chosen metric, coloured on a
 * blue->green->yellow->red heat scale; edges weighted by share. */
#include "output/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DOT_NODE_THRESHOLD 0.5 /* percent of the total below which nodes go */

/* Heat colour for a share in [0,1]: hue 240 (blue) down to 0 (red). */
static void heat(double s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s > 1)
		s = 1;
	s = s * (2.0 - s);	    /* spread the small shares, as gprof2dot's gamma does */
	double h = (1.0 - s) * 4.0; /* sector of 60 degrees, 4 = blue */
	double sat = 0.6, val = 0.95;
	int i = (int)h; /* h >= 0: truncation is floor; no libm needed */
	double f = h - i, pv = val * (1 - sat), q = val * (1 - sat * f),
	       t = val * (1 - sat * (1 - f));
	double r, g, b;
	switch (i) {
	case 0: r = val, g = t, b = pv; break;
	case 1: r = q, g = val, b = pv; break;
	case 2: r = pv, g = val, b = t; break;
	case 3: r = pv, g = q, b = val; break;
	default: r = t, g = pv, b = val; break;
	}
	snprintf(buf, len, "#%02x%02x%02x", (int)(r * 255 + 0.5), (int)(g * 255 + 0.5),
		 (int)(b * 255 + 0.5));
}

/* Writes s inside a DOT double-quoted string. */
static void dot_escape(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fputc('\\', out);
		fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
	}
}

static int dot_write(FILE *out, const struct profile *const *profiles, size_t n,
		     const struct write_opts *o, FILE *err)
{
	const struct profile *p = writer_one_graph(profiles, n, "dot", err);
	if (!p)
		return -EINVAL;
	int m = writer_pick_metric(p, o ? o->metric : NULL, err);
	if (m < 0)
		return -EINVAL;
	int64_t total = profile_metric_total(p, m);
	if (total <= 0) /* e.g. a graph whose self costs are unknown */
		for (size_t i = 0; i < p->nnodes; i++)
			if (p->nodes[i].total[m] > total)
				total = p->nodes[i].total[m];
	unsigned char *keep = calloc(p->nnodes ? p->nnodes : 1, 1);
	if (!keep)
		return -ENOMEM;
	size_t pruned = 0;
	for (size_t i = 0; i < p->nnodes; i++) {
		keep[i] = profile_pct(p->nodes[i].total[m], total) >= DOT_NODE_THRESHOLD;
		pruned += !keep[i];
	}

	struct strbuf name = { 0 };
	char col[16];
	int r = 0;
	fputs("digraph ebprof {\n", out);
	fprintf(out, "\t// report ");
	dot_escape(out, p->report);
	fprintf(out, ", metric %s, total %lld %s\n", p->metrics[m].name, (long long)total,
		p->metrics[m].unit);
	fprintf(out, "\t// pruned %zu nodes below %.1f%% of the total, and their edges\n", pruned,
		DOT_NODE_THRESHOLD);
	fputs("\tgraph [fontname=\"Arial\", nodesep=0.125, ranksep=0.25];\n"
	      "\tnode [fontname=\"Arial\", shape=box, style=filled, fontcolor=\"#000000\"];\n"
	      "\tedge [fontname=\"Arial\"];\n",
	      out);
	for (size_t i = 0; i < p->nnodes && !r; i++) {
		if (!keep[i])
			continue;
		const struct pnode *nd = &p->nodes[i];
		const struct pframe *f = &p->frames[nd->frame];
		double tp = profile_pct(nd->total[m], total), sp = profile_pct(nd->self[m], total);
		heat(tp / 100.0, col, sizeof(col));
		const char *s = pframe_str(f, &name, 0);
		if (!s) {
			r = -ENOMEM;
			break;
		}
		fprintf(out, "\tn%zu [label=\"", i);
		dot_escape(out, s);
		if (f->module) {
			fputs("\\n", out);
			dot_escape(out, f->module);
		}
		fprintf(out, "\\n%.2f%% (%.2f%%)", tp, sp);
		if (nd->calls)
			fprintf(out, "\\n%llu\xc3\x97", (unsigned long long)nd->calls);
		fprintf(out, "\", fillcolor=\"%s\"];\n", col);
	}
	for (size_t i = 0; i < p->nedges && !r; i++) {
		const struct pedge *e = &p->edges[i];
		if (!keep[e->caller] || !keep[e->callee])
			continue;
		double ep = profile_pct(e->total[m], total);
		heat(ep / 100.0, col, sizeof(col));
		fprintf(out, "\tn%u -> n%u [label=\"", e->caller, e->callee);
		if (e->calls)
			fprintf(out, "%llu\xc3\x97", (unsigned long long)e->calls);
		else
			fprintf(out, "%.2f%%", ep);
		fprintf(out, "\", color=\"%s\", penwidth=%.2f, arrowsize=%.2f];\n", col,
			ep > 12.5 ? 8.0 * ep / 100.0 : 1.0, ep > 25.0 ? 2.0 * ep / 100.0 : 0.5);
	}
	if (!r)
		fputs("}\n", out);
	free(keep);
	strbuf_free(&name);
	return r ? r : ferror(out) ? -EIO : 0;
}

const struct writer writer_dot = {
	.name = "dot",
	.desc = "graphviz call graph (render with dot -Tsvg)",
	.one_report = 1,
	.write = dot_write,
};
