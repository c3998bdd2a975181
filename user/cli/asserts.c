/* --assert: preparation before collecting, verdicts after. */
#include "cli/asserts.h"

#include <errno.h>
#include <fnmatch.h>
#include <string.h>

#include "output/writer.h"
#include "run/collector.h"
#include "util/util.h"

/* The unit of column i of table t of c (NULL in a function table: the
 * unit of the collector's default metric). */
static const char *def_unit(const struct collector_ops *c, const struct ptable_def *t, size_t i)
{
	if (t->cols[i].unit)
		return t->cols[i].unit;
	return c->nmetrics ? c->metrics[c->default_metric].unit : "";
}

/* Whether column key of some table of c fits a's unit; 1 found and fits,
 * 0 not there, -EINVAL does not fit (err filled). */
static int def_column(const struct assertion *a, const struct collector_ops *c, char *err,
		      size_t len)
{
	char pct[96];

	snprintf(pct, sizeof(pct), "%s_pct", a->column);
	for (const struct ptable_def *const *t = c->tables; t && *t; t++) {
		int col = -1, has_pct = 0;

		for (size_t i = 0; i < (*t)->ncols; i++) {
			if (!strcmp((*t)->cols[i].key, a->column))
				col = (int)i;
			has_pct |= !strcmp((*t)->cols[i].key, pct);
		}
		if (col >= 0)
			return assertion_unit_check(a, def_unit(c, *t, (size_t)col), has_pct, err,
						    len) ?
				       -EINVAL :
				       1;
	}
	return 0;
}

/* 1 when name matches one of the -f patterns (LIB:GLOB: the GLOB). */
static int traced(const struct options *o, const char *name)
{
	for (int i = 0; i < o->nfunc_patterns; i++) {
		const char *g = strchr(o->func_patterns[i], ':');

		if (!fnmatch(g ? g + 1 : o->func_patterns[i], name, 0))
			return 1;
	}
	return 0;
}

/* A report's name with (ROW) or FIELD: that report must be collected and,
 * with (ROW), have the column.  Fields exist only once collected. */
static int check_report(const struct assertion *a, const struct collector_ops *c,
			const struct options *o)
{
	char err[512];
	int r;

	if (!options_wants_report(o, c->name)) {
		ebprof_usage(
			"--assert '%s': the %s report is not collected (name it: ebprof ... %s)",
			a->text, c->name, c->name);
		return -EINVAL;
	}
	if (!a->arg)
		return 0;
	r = def_column(a, c, err, sizeof(err));
	if (r == 1)
		return 0;
	if (r == 0)
		snprintf(err, sizeof(err), "'%s': the %s report has no column '%s'", a->text,
			 c->name, a->column);
	ebprof_usage("--assert %s", err);
	return -EINVAL;
}

/* FUNCTION.COLUMN: some collected report has the column, and if only
 * func has it the function is traced. */
static int check_row(const struct assertion *a, const struct options *o)
{
	char err[512] = "";
	int found = 0, func_only = 1;

	for (const struct collector_ops *const *c = collector_list(); *c; c++) {
		int r;

		if (!options_wants_report(o, (*c)->name))
			continue;
		r = def_column(a, *c, err, sizeof(err));
		if (r < 0) {
			ebprof_usage("--assert %s", err);
			return -EINVAL;
		}
		if (r) {
			found = 1;
			func_only &= !strcmp((*c)->name, "func");
		}
	}
	if (!found) {
		ebprof_usage("--assert '%s': no report collected has a column '%s' (see ebprof "
			     "--help, -s keys)",
			     a->text, a->column);
		return -EINVAL;
	}
	if (func_only && !traced(o, a->subject)) {
		ebprof_usage(
			"--assert '%s': function '%s' is not traced (no -f pattern matches it)",
			a->text, a->subject);
		return -EINVAL;
	}
	return 0;
}

int asserts_prepare(struct asserts *a, const struct options *o, int live)
{
	char err[512];

	memset(a, 0, sizeof(*a));
	for (int i = 0; i < o->nasserts; i++) {
		const struct collector_ops *c;

		if (assertion_parse(o->asserts[i], &a->v[a->n], err, sizeof(err))) {
			ebprof_usage("--assert %s", err);
			asserts_free(a);
			return -EINVAL;
		}
		a->n++;
		if (!live)
			continue;
		if (a->v[i].unit == AU_KSTONES && !o->calibrate) {
			ebprof_usage("--assert '%s': kstones need --calibrate", a->v[i].text);
			asserts_free(a);
			return -EINVAL;
		}
		c = collector_find(a->v[i].subject);
		if (c ? check_report(&a->v[i], c, o) : check_row(&a->v[i], o)) {
			asserts_free(a);
			return -EINVAL;
		}
	}
	return 0;
}

int asserts_check(const struct asserts *a, const struct profile *const *p, size_t n, FILE *out)
{
	int status = 0;

	for (int i = 0; i < a->n; i++) {
		const struct assertion *x = &a->v[i];
		const char *unit = "";
		char err[512], got[64];
		double v;

		if (assertion_eval(x, p, n, &v, &unit, err, sizeof(err))) {
			ebprof_usage("--assert %s", err);
			return 2;
		}
		if (x->unit == AU_KSTONES)
			snprintf(got, sizeof(got), "%.1f kstones", v);
		else
			fmt_double(got, sizeof(got), v, unit);
		int ok = assertion_holds(x, v);

		fprintf(out, "assert %s: %s (measured %s)\n", ok ? "PASS" : "FAIL", x->text, got);
		if (!ok)
			status = ASSERT_FAIL_STATUS;
	}
	fflush(out);
	return status;
}

void asserts_free(struct asserts *a)
{
	for (int i = 0; i < a->n; i++)
		assertion_free(&a->v[i]);
	a->n = 0;
}
