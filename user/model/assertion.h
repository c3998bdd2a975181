/* --assert EXPR: a speed requirement as a check over the reports' tables
 * and info ('heavy.cumtime < 9s', 'cpu.self(hot_a) < 70%').  Parsing needs
 * no profile (so a bad expression fails before collecting); evaluation
 * resolves the name over the profiles.  The grammar is in README.md. */
#ifndef EBPROF_ASSERTION_H
#define EBPROF_ASSERTION_H

#include <stddef.h>

#include "model/profile.h"

enum assert_op { AOP_LT, AOP_LE, AOP_GT, AOP_GE, AOP_EQ, AOP_NE };
enum assert_unit { AU_NONE, AU_TIME, AU_BYTES, AU_PCT, AU_KSTONES };

struct assertion {
	char *text;    /* the expression as given */
	char *subject; /* a function (row key) or, with arg or for a field, a report */
	char *column;  /* column key or info key */
	char *arg;     /* REPORT.COLUMN(ROW): the row key; NULL without */
	enum assert_op op;
	enum assert_unit unit;
	double limit; /* in the base unit: ns, bytes, percent, plain, kstones */
};

/* Parses text into a; 0, or -EINVAL with one line's message in err. */
int assertion_parse(const char *text, struct assertion *a, char *err, size_t errlen);
void assertion_free(struct assertion *a);
/* Whether a value of a column in col_unit ("ns", "bytes", "%", "count",
 * "samples", "") can be compared with a's limit; has_pct: the table has the
 * column's share (KEY_pct) for a '%' limit.  0 or -EINVAL with a message. */
int assertion_unit_check(const struct assertion *a, const char *col_unit, int has_pct, char *err,
			 size_t errlen);
/* The measured value of a's name in the profiles, in the limit's base
 * unit (kstones: the time divided by the report's info kstone_ns, which
 * --calibrate records), and its unit for display into *unit.  0; -ENOENT when the name is
 * not there, -EINVAL for a unit or type that does not fit, with a
 * message in err. */
int assertion_eval(const struct assertion *a, const struct profile *const *p, size_t n,
		   double *value, const char **unit, char *err, size_t errlen);
/* 1 when value satisfies a. */
int assertion_holds(const struct assertion *a, double value);
const char *assertion_op_str(enum assert_op op);

#endif
