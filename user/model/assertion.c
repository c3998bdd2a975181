/* --assert expressions: parsing, units, resolution over profiles. */
#include "model/assertion.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/rowkey.h"

#define MAX_TEXT 4096

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && len)
		vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct {
	const char *name;
	enum assert_unit unit;
	double scale;
} units[] = {
	{ "ns", AU_TIME, 1 },	      { "us", AU_TIME, 1e3 },	    { "ms", AU_TIME, 1e6 },
	{ "s", AU_TIME, 1e9 },	      { "B", AU_BYTES, 1 },	    { "KB", AU_BYTES, 1e3 },
	{ "MB", AU_BYTES, 1e6 },      { "GB", AU_BYTES, 1e9 },	    { "KiB", AU_BYTES, 1024 },
	{ "MiB", AU_BYTES, 1 << 20 }, { "GiB", AU_BYTES, 1 << 30 }, { "%", AU_PCT, 1 },
	{ "kstones", AU_KSTONES, 1 },
};

static const char *const op_str[] = { "<", "<=", ">", ">=", "==", "!=" };

const char *assertion_op_str(enum assert_op op)
{
	return op_str[op];
}

/* The operator at s, its length into *len; -1 when none. */
static int op_at(const char *s, size_t *len)
{
	static const enum assert_op order[] = { AOP_LE, AOP_GE, AOP_EQ, AOP_NE, AOP_LT, AOP_GT };

	for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
		size_t l = strlen(op_str[order[i]]);

		if (!strncmp(s, op_str[order[i]], l)) {
			*len = l;
			return (int)order[i];
		}
	}
	return -1;
}

static char *dup_range(const char *s, const char *e)
{
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return strndup(s, (size_t)(e - s));
}

static int is_key(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int is_word(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '(' || *s == ')')
			return 0;
	return 1;
}

/* NAME: SUBJECT.COLUMN or SUBJECT.COLUMN(ARG), split at the last '.'
 * before any '('. */
static int parse_name(char *name, struct assertion *a, char *err, size_t len)
{
	char *paren = strchr(name, '('), *dot;

	if (paren) {
		size_t n = strlen(name);

		if (name[n - 1] != ')' || strchr(paren + 1, '(') ||
		    strchr(paren + 1, ')') != name + n - 1)
			return fail(err, len, "'%s': expected REPORT.COLUMN(ROW)", name);
		name[n - 1] = 0;
		*paren = 0;
		if (!is_word(paren + 1))
			return fail(err, len, "'%s': empty or blank row name in (...)", a->text);
		a->arg = strdup(paren + 1);
	}
	dot = strrchr(name, '.');
	if (!dot || dot == name)
		return fail(err, len,
			    "'%s': expected FUNCTION.COLUMN or REPORT.FIELD before the operator",
			    a->text);
	*dot = 0;
	if (!is_key(dot + 1))
		return fail(err, len,
			    "'%s': '%s' is not a column or field name (lower case, digits, _)",
			    a->text, dot + 1);
	if (!is_word(name))
		return fail(err, len, "'%s': blank or control character in the name '%s'", a->text,
			    name);
	a->subject = strdup(name);
	a->column = strdup(dot + 1);
	return a->subject && a->column && (!paren || a->arg) ? 0 : -ENOMEM;
}

/* LIMIT: a decimal number, then an optional unit. */
static int parse_limit(const char *s, struct assertion *a, char *err, size_t len)
{
	const char *p = s;
	char *end;
	double v;

	while (isspace((unsigned char)*p))
		p++;
	if (!(isdigit((unsigned char)*p) ||
	      ((*p == '-' || *p == '.') && (isdigit((unsigned char)p[1]) || p[1] == '.'))))
		return fail(err, len, "'%s': expected a number after the operator", a->text);
	if (strchr("xX", p[*p == '-' ? 2 : 1]) && p[*p == '-' ? 2 : 1])
		return fail(err, len, "'%s': the limit must be a decimal number", a->text);
	errno = 0;
	v = strtod(p, &end);
	if (end == p || errno || !isfinite(v))
		return fail(err, len, "'%s': the limit is not a finite number", a->text);
	while (isspace((unsigned char)*end))
		end++;
	a->unit = AU_NONE;
	a->limit = v;
	if (!*end)
		return 0;
	size_t ul = strlen(end);

	while (ul && isspace((unsigned char)end[ul - 1]))
		ul--;
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
		if (strlen(units[i].name) == ul && !strncmp(end, units[i].name, ul)) {
			a->unit = units[i].unit;
			a->limit = v * units[i].scale;
			return 0;
		}
	}
	return fail(err, len,
		    "'%s': unknown unit '%.*s' (ns, us, ms, s, kstones; B, KB, MB, GB, KiB, MiB, "
		    "GiB; %%)",
		    a->text, (int)(ul > 32 ? 32 : ul), end);
}

int assertion_parse(const char *text, struct assertion *a, char *err, size_t errlen)
{
	const char *p;
	int depth = 0, op = -1, r;
	size_t oplen = 0;
	char *name;

	memset(a, 0, sizeof(*a));
	if (!text || !*text)
		return fail(err, errlen, "'': empty expression");
	if (strlen(text) > MAX_TEXT)
		return fail(err, errlen, "--assert expression longer than %d bytes", MAX_TEXT);
	a->text = strdup(text);
	if (!a->text)
		return -ENOMEM;
	for (p = text; *p; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth)
			depth--;
		else if (depth == 0 && (op = op_at(p, &oplen)) >= 0)
			break;
	}
	if (depth) {
		assertion_free(a);
		return fail(err, errlen, "'%s': unbalanced parentheses in REPORT.COLUMN(ROW)",
			    text);
	}
	if (op < 0) {
		assertion_free(a);
		return fail(err, errlen, "'%s': no comparison (<, <=, >, >=, ==, !=)", text);
	}
	a->op = (enum assert_op)op;
	name = dup_range(text, p);
	if (!name) {
		assertion_free(a);
		return -ENOMEM;
	}
	r = *name ? parse_name(name, a, err, errlen) :
		    fail(err, errlen, "'%s': nothing before the operator", text);
	free(name);
	if (!r && op_at(p + oplen, &oplen) >= 0)
		r = fail(err, errlen, "'%s': two operators", text);
	if (!r)
		r = parse_limit(p + strlen(op_str[op]), a, err, errlen);
	if (r)
		assertion_free(a);
	return r;
}

void assertion_free(struct assertion *a)
{
	free(a->text);
	free(a->subject);
	free(a->column);
	free(a->arg);
	memset(a, 0, sizeof(*a));
}

static int unit_is(const char *u, const char *v)
{
	return u && !strcmp(u, v);
}

int assertion_unit_check(const struct assertion *a, const char *col_unit, int has_pct, char *err,
			 size_t errlen)
{
	int time = unit_is(col_unit, "ns"), bytes = unit_is(col_unit, "bytes");
	int pct = unit_is(col_unit, "%");

	switch (a->unit) {
	case AU_TIME:
	case AU_KSTONES:
		if (!time)
			return fail(err, errlen, "'%s': %s is not a time (its unit: %s)", a->text,
				    a->column, col_unit && *col_unit ? col_unit : "none");
		return 0;
	case AU_BYTES:
		if (!bytes)
			return fail(err, errlen, "'%s': %s is not a size in bytes (its unit: %s)",
				    a->text, a->column, col_unit && *col_unit ? col_unit : "none");
		return 0;
	case AU_PCT:
		if (!pct && !has_pct)
			return fail(err, errlen, "'%s': %s has no share in %% to compare with",
				    a->text, a->column);
		return 0;
	default:
		if (time || bytes || pct)
			return fail(err, errlen, "'%s': %s needs a unit (it is in %s)", a->text,
				    a->column, col_unit);
		return 0;
	}
}

/* The column of t named key, or its share column KEY_pct for a '%' limit
 * on a column that is not a share itself. */
static int pick_col(const struct assertion *a, const struct ptable *t, int *col, int *pct_col)
{
	char pct[96];

	*col = ptable_col_index(t, a->column);
	snprintf(pct, sizeof(pct), "%s_pct", a->column);
	*pct_col = ptable_col_index(t, pct);
	return *col >= 0;
}

/* The first row of a table of p with a's column whose key is row. */
static int find_row(const struct assertion *a, const struct profile *p, const char *row,
		    const struct ptable **tt, size_t *rr)
{
	for (size_t i = 0; i < p->ntables; i++) {
		const struct ptable *t = p->tables[i];
		int c, pc;

		if (!pick_col(a, t, &c, &pc))
			continue;
		for (size_t r = 0; r < t->nrows; r++) {
			if (rowkey_matches(t, r, row)) {
				*tt = t;
				*rr = r;
				return 1;
			}
		}
	}
	return 0;
}

static int cell_value(const struct assertion *a, const struct ptable *t, size_t r, double *value,
		      const char **unit, char *err, size_t errlen)
{
	int c, pc, e;

	pick_col(a, t, &c, &pc);
	e = assertion_unit_check(a, t->cols[c].unit, pc >= 0, err, errlen);
	if (e)
		return e;
	if (a->unit == AU_PCT && !unit_is(t->cols[c].unit, "%"))
		c = pc;
	*unit = t->cols[c].unit;
	if (rowkey_number(t, r, (size_t)c, value))
		return fail(err, errlen, "'%s': %s is not a number", a->text, a->column);
	return 0;
}

static int info_value(const struct assertion *a, const struct pinfo *in, double *value,
		      const char **unit, char *err, size_t errlen)
{
	int e = assertion_unit_check(a, in->unit, 0, err, errlen);

	if (e)
		return e;
	if (in->type == INFO_STR)
		return fail(err, errlen, "'%s': %s is text ('%s'), not a number", a->text, in->key,
			    in->v.s ? in->v.s : "");
	*value = in->type == INFO_INT ? (double)in->v.i : in->v.d;
	*unit = in->unit;
	return 0;
}

/* A time in ns as kstones of p's calibration (info kstone_ns). */
static int to_kstones(const struct assertion *a, const struct profile *p, double *value,
		      const char **unit, char *err, size_t errlen)
{
	const struct pinfo *k = profile_get_info(p, "kstone_ns");
	double ns = !k			   ? 0 :
		    k->type == INFO_DOUBLE ? k->v.d :
		    k->type == INFO_INT	   ? (double)k->v.i :
					     0;

	if (!(ns > 0))
		return fail(err, errlen,
			    "'%s': kstones need a calibration: run with --calibrate (the %s "
			    "report has none)",
			    a->text, p->report);
	*value /= ns;
	*unit = "kstones";
	return 0;
}

/* The value of a's name in report p (row of table t, or p's info when t
 * is NULL), in kstones when a asks for them. */
static int value_in(const struct assertion *a, const struct profile *p, const struct ptable *t,
		    size_t r, double *value, const char **unit, char *err, size_t errlen)
{
	int e;

	if (t)
		e = cell_value(a, t, r, value, unit, err, errlen);
	else
		e = info_value(a, profile_get_info(p, a->column), value, unit, err, errlen);
	return e || a->unit != AU_KSTONES ? e : to_kstones(a, p, value, unit, err, errlen);
}

int assertion_eval(const struct assertion *a, const struct profile *const *p, size_t n,
		   double *value, const char **unit, char *err, size_t errlen)
{
	const struct profile *rep = profile_find_report(p, n, a->subject), *found = NULL;
	const struct ptable *t = NULL;
	size_t r = 0;

	if (a->arg) {
		if (!rep)
			return fail(err, errlen, "'%s': no report '%s'", a->text, a->subject),
			       -ENOENT;
		if (!find_row(a, rep, a->arg, &t, &r))
			return fail(err, errlen,
				    "'%s': no row '%s' with a column '%s' in the %s report",
				    a->text, a->arg, a->column, a->subject),
			       -ENOENT;
		return value_in(a, rep, t, r, value, unit, err, errlen);
	}
	if (rep) {
		const struct pinfo *in = profile_get_info(rep, a->column);

		if (!in)
			return fail(err, errlen, "'%s': the %s report has no field '%s'", a->text,
				    a->subject, a->column),
			       -ENOENT;
		return value_in(a, rep, NULL, 0, value, unit, err, errlen);
	}
	for (size_t i = 0; i < n; i++) {
		const struct ptable *ti;
		size_t ri;

		if (!p[i] || !find_row(a, p[i], a->subject, &ti, &ri))
			continue;
		if (found)
			return fail(err, errlen,
				    "'%s': '%s' has a %s in the %s and %s reports: name one, "
				    "%s.%s(%s)",
				    a->text, a->subject, a->column, found->report, p[i]->report,
				    found->report, a->column, a->subject);
		found = p[i];
		t = ti;
		r = ri;
	}
	if (!found)
		return fail(err, errlen,
			    "'%s': no function or row '%s' with a column '%s' in the reports",
			    a->text, a->subject, a->column),
		       -ENOENT;
	return value_in(a, found, t, r, value, unit, err, errlen);
}

int assertion_holds(const struct assertion *a, double v)
{
	switch (a->op) {
	case AOP_LT: return v < a->limit;
	case AOP_LE: return v <= a->limit;
	case AOP_GT: return v > a->limit;
	case AOP_GE: return v >= a->limit;
	case AOP_EQ: return v == a->limit;
	default: return v != a->limit;
	}
}
