/* What names a table row: the text columns that identify it (function,
 * module, allocation site, thread, endpoint...) as opposed to the ones that
 * hold measurements.  --assert finds a row by one of them, diff matches
 * rows of two runs by all of them. */
#ifndef EBPROF_ROWKEY_H
#define EBPROF_ROWKEY_H

#include <stddef.h>

#include "model/profile.h"

/* 1 when column c of a table names its row. */
int rowkey_is_key(const struct pcol *c);
/* 1 when some key column of row r holds exactly key. */
int rowkey_matches(const struct ptable *t, size_t r, const char *key);
/* The row's key columns joined with ' ' into buf ("heavy app"). */
void rowkey_format(const struct ptable *t, size_t r, char *buf, size_t len);
/* The row's value of column c as a number: int, double, or for a
 * formatted text column ("177/1") the column it sorts by; 0 and -EINVAL
 * when it holds none. */
int rowkey_number(const struct ptable *t, size_t r, size_t c, double *out);

#endif
