/* Human-readable text: per report a heading, aligned facts, notes, every
 * table (cut to -n rows, in the order it has: the run loop sorts tables by
 * -s, model/tablesort.h), and pstats-style callers/callees on request.  It
 * prints the tables the collector made and derives none. */
#include "output/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A cell as text, whole, in b; NULL when b cannot grow. */
static const char *cell_text(const struct ptable *t, size_t r, size_t c, struct strbuf *b)
{
	const union pcell *v = &t->cells[r * t->ncols + c];
	const struct pcol *col = &t->cols[c];
	char num[64];
	if (col->type == COL_STR)
		return fmt_sanitized(b, v->s ? v->s : "", NULL);
	if (col->type == COL_INT)
		fmt_value(num, sizeof(num), v->i, col->unit);
	else
		fmt_double(num, sizeof(num), v->d, col->unit);
	return fmt_sanitized(b, num, NULL);
}

/* The rows text shows (not left out by a text_skip column), in order,
 * into rows; returns how many. */
static size_t text_rows(const struct ptable *t, size_t *rows)
{
	size_t n = 0;
	for (size_t r = 0; r < t->nrows; r++)
		if (!ptable_text_skips(t, r))
			rows[n++] = r;
	return n;
}

/* Columns as wide as their widest cell shown: a long name widens its
 * column (the last is not padded).  0 or -ENOMEM. */
static int print_table(FILE *out, const struct ptable *t, int limit)
{
	size_t *rows = calloc(t->nrows ? t->nrows : 1, sizeof(*rows));
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));
	struct strbuf buf = { 0 };
	int err = 0;
	if (!w || !rows) {
		free(w);
		free(rows);
		return -ENOMEM;
	}
	size_t nrows = text_rows(t, rows), shown = nrows;
	if (limit > 0 && (size_t)limit < shown)
		shown = (size_t)limit;
	for (size_t c = 0; c < t->ncols && !err; c++) {
		w[c] = strlen(t->cols[c].header);
		for (size_t r = 0; r < shown && !err; r++) {
			if (!cell_text(t, rows[r], c, &buf))
				err = -ENOMEM;
			else if (buf.len > w[c])
				w[c] = buf.len;
		}
	}
	if (err)
		goto out;
	size_t last = 0;
	for (size_t c = 0; c < t->ncols; c++)
		if (!t->cols[c].text_hidden)
			last = c;
	fprintf(out, "\n%s\n", t->title ? t->title : t->name);
	for (int row = -1; row < (int)shown && !err; row++) {
		const char *sep = "";
		for (size_t c = 0; c < t->ncols; c++) {
			if (t->cols[c].text_hidden)
				continue;
			const char *s = row < 0 ? t->cols[c].header :
						  cell_text(t, rows[row], c, &buf);
			if (!s) {
				err = -ENOMEM;
				break;
			}
			/* Numbers, and strings that hold numbers ("3/1"), align
			 * right. */
			if (t->cols[c].type != COL_STR || !strcmp(t->cols[c].unit, "count"))
				fprintf(out, "%s%*s", sep, (int)w[c], s);
			else if (c == last)
				fprintf(out, "%s%s", sep, s);
			else
				fprintf(out, "%s%-*s", sep, (int)w[c], s);
			sep = "  ";
		}
		fputc('\n', out);
	}
	if (!nrows)
		fprintf(out, "(none)\n");
	if (shown < nrows)
		fprintf(out, "... %zu more rows (use -n 0 for all)\n", nrows - shown);
out:
	free(w);
	free(rows);
	strbuf_free(&buf);
	return err;
}

/* An indented line is a breakdown of the line above it (the causes of a
 * loss): left out of text when it is 0, so the first screen keeps what
 * happened; json keeps every key. */
static int info_quiet(const struct pinfo *in)
{
	return in->type == INFO_INT && !in->v.i && in->label && !strncmp(in->label, "  ", 2);
}

static int print_info(FILE *out, const struct profile *p)
{
	size_t lw = 0;
	for (size_t i = 0; i < p->ninfo; i++) {
		if (info_quiet(&p->info[i]))
			continue;
		size_t l = strlen(p->info[i].label ? p->info[i].label : p->info[i].key);
		if (l > lw)
			lw = l;
	}
	struct strbuf b = { 0 };
	int err = 0;
	for (size_t i = 0; i < p->ninfo && !err; i++) {
		const struct pinfo *in = &p->info[i];
		char num[64];
		const char *v = num;
		if (info_quiet(in))
			continue;
		if (in->type == INFO_INT)
			fmt_value(num, sizeof(num), in->v.i, in->unit);
		else if (in->type == INFO_DOUBLE)
			fmt_double(num, sizeof(num), in->v.d, in->unit);
		else
			v = in->v.s ? in->v.s : "";
		const char *label = in->label ? in->label : in->key;
		if (!(v = fmt_sanitized(&b, v, NULL)))
			err = -ENOMEM;
		else
			fprintf(out, "%s:%*s %s\n", label, (int)(lw - strlen(label)), "", v);
	}
	strbuf_free(&b);
	return err;
}

static int print_notes(FILE *out, const struct profile *p)
{
	struct strbuf b = { 0 };
	int err = 0;
	for (size_t i = 0; i < p->notes.n && !err; i++) {
		const char *s = fmt_sanitized(&b, p->notes.v[i], NULL);
		if (!s)
			err = -ENOMEM;
		else
			fprintf(out, "note: %s\n", s);
	}
	strbuf_free(&b);
	return err;
}

/* The metric named by --metric when this profile has it, else "time",
 * else the profile's default. */
static int text_metric(const struct profile *p, const char *name)
{
	int m = name ? profile_metric_index(p, name) : -1;
	if (m < 0)
		m = profile_metric_index(p, "time");
	return m >= 0 ? m : writer_pick_metric(p, NULL, NULL);
}

static int node_is(const struct profile *p, uint32_t node, const char *func)
{
	const char *f = p->frames[p->nodes[node].frame].func;
	return f && strcmp(f, func) == 0;
}

static int has_function(const struct profile *p, const char *func)
{
	for (size_t i = 0; i < p->nnodes; i++)
		if (node_is(p, (uint32_t)i, func))
			return 1;
	return 0;
}

/* pstats print_callers / print_callees from the graph edges. */
static int print_relatives(FILE *out, const struct profile *p, const char *func, int callers,
			   const struct write_opts *o)
{
	int m = text_metric(p, o->metric);
	struct profile *tmp = profile_new("tmp", NULL);
	struct strbuf title = { 0 }, name = { 0 };
	struct ptable *t = NULL;
	int r = 0;
	if (tmp &&
	    !strbuf_addf(&title, "Function %s %s", func,
			 callers ? "was called by..." : "called...") &&
	    fmt_sanitized(&title, title.s, NULL))
		t = profile_table(tmp, "relatives", title.s);
	strbuf_free(&title);
	if (!t || ptable_add_col(t, "calls", "calls", "count", COL_INT) < 0 ||
	    (m >= 0 &&
	     ptable_add_col(t, "metric", p->metrics[m].name, p->metrics[m].unit, COL_INT) < 0) ||
	    ptable_add_col(t, "function", callers ? "caller" : "callee", "", COL_STR) < 0) {
		profile_free(tmp);
		return -ENOMEM;
	}
	int namecol = m >= 0 ? 2 : 1;
	for (size_t i = 0; i < p->nedges && !r; i++) {
		const struct pedge *e = &p->edges[i];
		if (!node_is(p, callers ? e->callee : e->caller, func))
			continue;
		uint32_t other = callers ? e->caller : e->callee;
		int64_t row = ptable_add_row(t);
		if (row < 0) {
			r = (int)row;
			break;
		}
		ptable_cell(t, row, 0)->i = (int64_t)e->calls;
		if (m >= 0)
			ptable_cell(t, row, 1)->i = e->total[m];
		const char *s = pframe_str(&p->frames[p->nodes[other].frame], &name, 0);
		r = s ? ptable_set_str(t, row, namecol, s) : -ENOMEM;
	}
	if (!r) {
		ptable_sort(t, m >= 0 ? 1 : 0, 0);
		r = print_table(out, t, 0);
	}
	strbuf_free(&name);
	profile_free(tmp);
	return r;
}

static int check_function(const struct profile *const *profiles, size_t n, const char *func,
			  FILE *err)
{
	int found = 0;
	for (size_t i = 0; i < n; i++)
		if (profiles[i])
			found |= has_function(profiles[i], func);
	if (!found) {
		if (err)
			fprintf(err, "ebprof: no function '%s' in the report\n", func);
		return -EINVAL;
	}
	return 0;
}

static int print_profile(FILE *out, const struct profile *p, int first)
{
	struct strbuf b = { 0 };
	const char *title = fmt_sanitized(&b, p->title ? p->title : p->report, NULL);
	if (!title) {
		strbuf_free(&b);
		return -ENOMEM;
	}
	fprintf(out, "%s%s\n", first ? "" : "\n", title);
	for (size_t j = b.len; j; j--)
		fputc('=', out);
	fputc('\n', out);
	strbuf_free(&b);
	int err = print_info(out, p);
	return err ? err : print_notes(out, p);
}

static int text_write(FILE *out, const struct profile *const *profiles, size_t n,
		      const struct write_opts *opts, FILE *err)
{
	struct write_opts none = { 0 };
	const struct write_opts *o = opts ? opts : &none;
	int r = 0;

	if (o->callers)
		r = check_function(profiles, n, o->callers, err);
	if (!r && o->callees)
		r = check_function(profiles, n, o->callees, err);
	for (size_t i = 0, k = 0; i < n && !r; i++) {
		const struct profile *p = profiles[i];
		if (!p)
			continue;
		r = print_profile(out, p, !k++);
		for (size_t t = 0; t < p->ntables && !r; t++)
			r = print_table(out, p->tables[t], o->limit);
		if (o->callers && has_function(p, o->callers))
			r = print_relatives(out, p, o->callers, 1, o);
		if (!r && o->callees && has_function(p, o->callees))
			r = print_relatives(out, p, o->callees, 0, o);
	}
	if (!r && ferror(out))
		r = -EIO;
	return r;
}

const struct writer writer_text = {
	.name = "text",
	.desc = "human-readable report (default)",
	.write = text_write,
};
