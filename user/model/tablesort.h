/* Table order of a set of reports: the -s key of the command line, or
 * each table's default.  Applied once to the profiles before they are
 * written, so that every writer renders tables in the same order and none
 * of them changes a profile. */
#ifndef EBPROF_TABLESORT_H
#define EBPROF_TABLESORT_H

#include <stdio.h>

#include "model/profile.h"

/* Sorts every table that has column key (numbers descending, strings
 * ascending, see ptable_sort); tables without it, and every table when key
 * is NULL, take their default order.  -EINVAL with one line listing the
 * valid keys on err (may be NULL) when no table has key: then no table
 * changes.  NULL entries of profiles are skipped. */
int profile_sort_tables(struct profile *const *profiles, size_t n, const char *key, FILE *err);

#endif
