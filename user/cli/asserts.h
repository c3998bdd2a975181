/* --assert: the expressions of the command line parsed (and, for a live
 * run, checked against what will be collected) before anything runs, then
 * evaluated over the final report, one PASS/FAIL line each. */
#ifndef EBPROF_ASSERTS_H
#define EBPROF_ASSERTS_H

#include <stdio.h>

#include "cli/options.h"
#include "model/assertion.h"
#include "model/profile.h"

/* The exit status when an assertion fails. */
#define ASSERT_FAIL_STATUS 3

struct asserts {
	struct assertion v[MAX_ASSERTS];
	int n;
};

/* Parses o's --assert expressions; with live set, also checks each name
 * against the reports to be collected (report names, column keys and
 * units, traced functions).  0, or -EINVAL with one usage line. */
int asserts_prepare(struct asserts *a, const struct options *o, int live);
/* Evaluates every assertion over the profiles and writes one line each to
 * out; 0 when all pass, ASSERT_FAIL_STATUS when one fails, 2 when a name is
 * not in the report (with one error line). */
int asserts_check(const struct asserts *a, const struct profile *const *p, size_t n, FILE *out);
void asserts_free(struct asserts *a);

#endif
