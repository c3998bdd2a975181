/* Callgrind (calltree) format for KCachegrind / QCachegrind and
 * callgrind_annotate.  One event per metric; every function is written with
 * its self cost and, per callee, the inclusive cost of the calls. */
#include "output/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Name compression: "(id) name" the first time, "(id)" afterwards. */
struct names {
	char **names;
	size_t n;
};

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->names[i]);
	free(ns->names);
}

/* Linear lookup is fine per module (few); functions use node ids instead. */
static int put_name(FILE *out, const char *tag, struct names *ns, const char *name)
{
	for (size_t i = 0; i < ns->n; i++) {
		if (strcmp(ns->names[i], name) == 0) {
			fprintf(out, "%s=(%zu)\n", tag, i + 1);
			return 0;
		}
	}
	char **n = realloc(ns->names, (ns->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ns->names = n;
	if (!(ns->names[ns->n] = strdup(name)))
		return -ENOMEM;
	ns->n++;
	fprintf(out, "%s=(%zu) %s\n", tag, ns->n, name);
	return 0;
}

static const char *module_of(const struct profile *p, uint32_t node)
{
	const char *m = p->frames[p->nodes[node].frame].module;
	return m && *m ? m : "???";
}

/* name: room for the function's name.  0 or -ENOMEM. */
static int put_fn(FILE *out, const char *tag, const struct profile *p, uint32_t node,
		  unsigned char *seen, struct strbuf *name)
{
	if (seen[node]) {
		fprintf(out, "%s=(%u)\n", tag, node + 1);
		return 0;
	}
	const struct pframe *f = &p->frames[p->nodes[node].frame];
	const char *s = fmt_sanitized(name, pframe_str(f, name, 0), NULL);
	if (!s)
		return -ENOMEM;
	seen[node] = 1;
	fprintf(out, "%s=(%u) %s\n", tag, node + 1, s);
	return 0;
}

static void put_costs(FILE *out, const int64_t *v, size_t n)
{
	fputc('0', out);
	for (size_t m = 0; m < n; m++)
		fprintf(out, " %lld", (long long)v[m]);
	fputc('\n', out);
}

/* desc: room for the descriptions.  0 or -ENOMEM. */
static int put_header(FILE *out, const struct profile *p, struct strbuf *desc)
{
	const struct pinfo *cmd = profile_get_info(p, "command");
	char ev[PROFILE_MAX_METRICS][80];
	const char *d;
	fprintf(out, "# callgrind format\nversion: 1\ncreator: ebprof\n");
	/* The profiled command line (callgrind_annotate: "Profiled target"). */
	if (cmd && cmd->type == INFO_STR && cmd->v.s)
		d = fmt_sanitized(desc, cmd->v.s, NULL);
	else
		d = fmt_sanitized(desc, p->title ? p->title : p->report, NULL);
	if (!d)
		return -ENOMEM;
	fprintf(out, "cmd: %s\npositions: line\n", d);
	for (size_t m = 0; m < p->nmetrics; m++) {
		const struct pmetric *mt = &p->metrics[m];
		int ns = mt->unit && strcmp(mt->unit, "ns") == 0;
		size_t l = strlen(mt->name);
		int has_suffix = l >= 3 && strcmp(mt->name + l - 3, "_ns") == 0;
		snprintf(ev[m], sizeof(ev[m]), "%s%s", mt->name, ns && !has_suffix ? "_ns" : "");
		for (char *c = ev[m]; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '_'))
				*c = '_';
		if (!(d = fmt_sanitized(desc, mt->desc && *mt->desc ? mt->desc : mt->name, NULL)))
			return -ENOMEM;
		fprintf(out, "event: %s : %s\n", ev[m], d);
	}
	fputs("events:", out);
	for (size_t m = 0; m < p->nmetrics; m++)
		fprintf(out, " %s", ev[m]);
	fputs("\nsummary:", out);
	for (size_t m = 0; m < p->nmetrics; m++)
		fprintf(out, " %lld", (long long)profile_metric_total(p, (int)m));
	/* No source positions: one unknown file, set once, keeps
	 * callgrind_annotate from tripping over a missing fl= line. */
	fputs("\n\nfl=(1) ???\n", out);
	return 0;
}

static int callgrind_write(FILE *out, const struct profile *const *profiles, size_t n,
			   const struct write_opts *o, FILE *err)
{
	(void)o;
	const struct profile *p = writer_one_graph(profiles, n, "callgrind", err);
	if (!p)
		return -EINVAL;
	if (!p->nmetrics) {
		writer_pick_metric(p, NULL, err);
		return -EINVAL;
	}
	int r = 0;
	/* Outgoing edges grouped by caller. */
	size_t *first = calloc(p->nnodes + 1, sizeof(*first));
	size_t *order = malloc((p->nedges ? p->nedges : 1) * sizeof(*order));
	unsigned char *seen = calloc(p->nnodes ? p->nnodes : 1, 1);
	struct names obs = { 0 };
	struct strbuf name = { 0 };
	if (!first || !order || !seen) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t e = 0; e < p->nedges; e++)
		first[p->edges[e].caller + 1]++;
	for (size_t i = 0; i < p->nnodes; i++)
		first[i + 1] += first[i];
	{
		size_t *fill = calloc(p->nnodes ? p->nnodes : 1, sizeof(*fill));
		if (!fill) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t e = 0; e < p->nedges; e++) {
			uint32_t c = p->edges[e].caller;
			order[first[c] + fill[c]++] = e;
		}
		free(fill);
	}
	r = put_header(out, p, &name);
	for (uint32_t i = 0; i < p->nnodes && !r; i++) {
		r = put_name(out, "ob", &obs, module_of(p, i));
		if (!r)
			r = put_fn(out, "fn", p, i, seen, &name);
		put_costs(out, p->nodes[i].self, p->nmetrics);
		for (size_t k = first[i]; k < first[i + 1] && !r; k++) {
			const struct pedge *e = &p->edges[order[k]];
			if (e->callee == e->caller)
				continue; /* recursion: already inside the inclusive cost */
			r = put_name(out, "cob", &obs, module_of(p, e->callee));
			if (!r)
				r = put_fn(out, "cfn", p, e->callee, seen, &name);
			fprintf(out, "calls=%llu 0\n",
				(unsigned long long)(e->calls ? e->calls : 1));
			put_costs(out, e->total, p->nmetrics);
		}
		fputc('\n', out);
	}
	if (!r && ferror(out))
		r = -EIO;
out:
	names_free(&obs);
	strbuf_free(&name);
	free(first);
	free(order);
	free(seen);
	return r;
}

const struct writer writer_callgrind = {
	.name = "callgrind",
	.desc = "callgrind format for KCachegrind / callgrind_annotate",
	.one_report = 1,
	.write = callgrind_write,
};
