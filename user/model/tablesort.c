/* -s: every table that has the key sorts by it, the others keep their
 * default order; a key that no table has is an error naming the keys. */
#include <errno.h>
#include <string.h>

#include "model/tablesort.h"

/* 1 when the key of column ci of table ti of profile pi appeared earlier
 * (in an earlier profile, table or column). */
static int key_seen_before(struct profile *const *profiles, size_t pi, size_t ti, size_t ci)
{
	const char *key = profiles[pi]->tables[ti]->cols[ci].key;

	for (size_t i = 0; i <= pi; i++) {
		for (size_t t = 0; profiles[i] && t < profiles[i]->ntables; t++) {
			const struct ptable *tb = profiles[i]->tables[t];

			for (size_t c = 0; c < tb->ncols; c++) {
				if (i == pi && t == ti && c == ci)
					return 0;
				if (strcmp(tb->cols[c].key, key) == 0)
					return 1;
			}
		}
	}
	return 0;
}

/* Every column key of every table, once, in order. */
static void print_keys(struct profile *const *profiles, size_t n, FILE *err)
{
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; profiles[i] && t < profiles[i]->ntables; t++)
			for (size_t c = 0; c < profiles[i]->tables[t]->ncols; c++)
				if (!key_seen_before(profiles, i, t, c))
					fprintf(err, " %s", profiles[i]->tables[t]->cols[c].key);
}

static int some_table_has(struct profile *const *profiles, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; profiles[i] && t < profiles[i]->ntables; t++)
			if (ptable_col_index(profiles[i]->tables[t], key) >= 0)
				return 1;
	return 0;
}

int profile_sort_tables(struct profile *const *profiles, size_t n, const char *key, FILE *err)
{
	if (key && !some_table_has(profiles, n, key)) {
		if (err) {
			fprintf(err, "ebprof: unknown sort key '%s' (valid:", key);
			print_keys(profiles, n, err);
			fprintf(err, ")\n");
		}
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t t = 0; profiles[i] && t < profiles[i]->ntables; t++) {
			struct ptable *tb = profiles[i]->tables[t];
			int c = key ? ptable_col_index(tb, key) : -1;

			if (c >= 0)
				ptable_sort(tb, c, 0);
			else if (tb->sort_col >= 0)
				ptable_sort(tb, tb->sort_col, tb->sort_asc);
		}
	}
	return 0;
}
