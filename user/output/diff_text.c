/* ebprof diff as text: totals per metric, then every table's rows in
 * regression order with each column's change. */
#include "output/diff.h"
#include "output/writer.h"

#include <errno.h>
#include <string.h>

static void change(char *buf, size_t len, double before, double after, const char *unit)
{
	char v[48];

	fmt_double(v, sizeof(v), after - before, unit);
	snprintf(buf, len, "%s%s", after - before > 0 ? "+" : "", v);
}

static void line(FILE *out, const char *key, const char *what, double before, double after,
		 const char *unit)
{
	char b[48], a[48], c[64];

	fmt_double(b, sizeof(b), before, unit);
	fmt_double(a, sizeof(a), after, unit);
	change(c, sizeof(c), before, after, unit);
	fprintf(out, "%-32s %-14s %14s %14s %14s %+9.1f%%\n", key, what, b, a, c,
		diff_pct(before, after));
}

static void header(FILE *out, const char *first)
{
	fprintf(out, "%-32s %-14s %14s %14s %14s %10s\n", first, "column", "before", "after",
		"change", "change%");
}

int diff_write_text(FILE *out, const struct diff *d, int limit)
{
	struct strbuf key = { 0 };
	int err = 0;

	fprintf(out, "Totals\n======\n");
	header(out, "report");
	for (size_t i = 0; i < d->ntotals; i++)
		line(out, d->totals[i].report, d->totals[i].metric, (double)d->totals[i].before,
		     (double)d->totals[i].after, d->totals[i].unit);
	for (size_t i = 0; i < d->ntables && !err; i++) {
		const struct diff_table *t = &d->tables[i];
		size_t n = limit > 0 && (size_t)limit < t->nrows ? (size_t)limit : t->nrows;

		fprintf(out, "\n%s: %s, by change in %s (largest growth first)\n", t->report,
			t->title ? t->title : t->name, t->rank_col ? t->rank_col : "-");
		header(out, "row");
		for (size_t r = 0; r < n && !err; r++) {
			const struct diff_row *row = &t->rows[r];

			strbuf_reset(&key);
			if (strbuf_addf(&key, "%s%s", row->key,
					!row->in_before ? " (new)" :
					!row->in_after	? " (gone)" :
							  "")) {
				err = -ENOMEM;
				break;
			}
			fmt_sanitize(key.s, NULL);
			for (size_t c = 0; c < t->ncells; c++)
				line(out, c ? "" : key.s, row->cells[c].col, row->cells[c].before,
				     row->cells[c].after, row->cells[c].unit);
		}
		if (n < t->nrows)
			fprintf(out, "... %zu more rows (use -n 0 for all)\n", t->nrows - n);
	}
	strbuf_free(&key);
	return err ? err : ferror(out) ? -EIO : 0;
}
