/* Row identity columns of the reports' tables. */
#include "model/rowkey.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The keys of the columns that name a row in every report's tables (func,
 * cpu: name, module; cpu threads: comm; mem: caller, function, module; net
 * sockets and endpoints: proto, family, local, remote, role, host, port).
 * A report whose rows are named by another column adds its key here. */
static const char *const key_cols[] = {
	"name",	  "module", "comm",   "caller", "function", "proto",
	"family", "local",  "remote", "role",	"host",	    "port",
};

int rowkey_is_key(const struct pcol *c)
{
	for (size_t i = 0; i < sizeof(key_cols) / sizeof(*key_cols); i++)
		if (c->key && !strcmp(c->key, key_cols[i]))
			return 1;
	return 0;
}

/* Column c of row r as text into buf (numbers in decimal). */
static const char *cell_text(const struct ptable *t, size_t r, size_t c, char *buf, size_t len)
{
	const union pcell *v = &t->cells[r * t->ncols + c];

	switch (t->cols[c].type) {
	case COL_STR: return v->s ? v->s : "";
	case COL_INT: snprintf(buf, len, "%lld", (long long)v->i); return buf;
	default: snprintf(buf, len, "%g", v->d); return buf;
	}
}

int rowkey_matches(const struct ptable *t, size_t r, const char *key)
{
	char num[32];

	for (size_t c = 0; c < t->ncols; c++)
		if (rowkey_is_key(&t->cols[c]) &&
		    !strcmp(cell_text(t, r, c, num, sizeof(num)), key))
			return 1;
	return 0;
}

void rowkey_format(const struct ptable *t, size_t r, char *buf, size_t len)
{
	size_t used = 0;
	char num[32];

	if (len)
		buf[0] = 0;
	for (size_t c = 0; c < t->ncols && used < len; c++) {
		if (!rowkey_is_key(&t->cols[c]))
			continue;
		int w = snprintf(buf + used, len - used, "%s%s", used ? " " : "",
				 cell_text(t, r, c, num, sizeof(num)));
		used += w > 0 ? (size_t)w : 0;
	}
}

int rowkey_number(const struct ptable *t, size_t r, size_t c, double *out)
{
	const union pcell *v;

	*out = 0;
	if (c >= t->ncols || r >= t->nrows)
		return -EINVAL;
	if (t->cols[c].sort_as > 0 && (size_t)(t->cols[c].sort_as - 1) != c)
		c = (size_t)(t->cols[c].sort_as - 1);
	if (c >= t->ncols)
		return -EINVAL;
	v = &t->cells[r * t->ncols + c];
	switch (t->cols[c].type) {
	case COL_INT: *out = (double)v->i; return 0;
	case COL_DOUBLE: *out = v->d; return 0;
	default: return -EINVAL;
	}
}
