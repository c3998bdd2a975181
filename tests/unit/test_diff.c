/* ebprof diff: two saved profiles with known differences
 * (tests/unit/fixtures/saved/func_after.json is func.json with heavy's
 * tottime and cumtime 100 ms longer, medium called 500 times instead of
 * 400, light gone and a new function extra; cpu_after.json doubles the
 * values of cpu.json's first stack) compared row by row, in regression
 * order, with totals, and as a two-column folded diff. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "load/saved.h"
#include "model/diff.h"
#include "output/diff.h"

#define FIXTURES "tests/unit/fixtures/saved/"

static const struct diff_row *row(const struct diff_table *t, const char *key)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (!strcmp(t->rows[i].key, key))
			return &t->rows[i];
	fail_msg("no row %s", key);
	return NULL;
}

static const struct diff_cell *cell(const struct diff_table *t, const struct diff_row *r,
				    const char *col)
{
	for (size_t i = 0; i < t->ncells; i++)
		if (!strcmp(r->cells[i].col, col))
			return &r->cells[i];
	fail_msg("no column %s", col);
	return NULL;
}

static void load2(const char *a, const char *b, struct saved_run *s)
{
	assert_int_equal(saved_run_load(a, &s[0]), 0);
	assert_int_equal(saved_run_load(b, &s[1]), 0);
}

static void test_func_rows(void **state)
{
	struct saved_run s[2];
	struct diff d;
	const struct diff_table *t;
	const struct diff_row *r;

	load2(FIXTURES "func.json", FIXTURES "func_after.json", s);
	assert_int_equal(diff_build((const struct profile *const *)s[0].profiles, s[0].n,
				    (const struct profile *const *)s[1].profiles, s[1].n, &d),
			 0);
	assert_int_equal(d.ntables, 1);
	t = &d.tables[0];
	assert_string_equal(t->report, "func");
	assert_string_equal(t->rank_col, "tottime");
	assert_int_equal(t->nrows, 5);
	/* Regression order: heavy grew most, light shrank most. */
	assert_string_equal(t->rows[0].key, "heavy cprofile");
	assert_string_equal(t->rows[t->nrows - 1].key, "light cprofile");
	r = row(t, "heavy cprofile");
	assert_true(cell(t, r, "cumtime")->after - cell(t, r, "cumtime")->before == 100000000);
	assert_true(cell(t, r, "cumtime")->before == 523218937);
	r = row(t, "medium cprofile");
	assert_true(cell(t, r, "ncalls")->before == 400 && cell(t, r, "ncalls")->after == 500);
	assert_true(diff_pct(400, 500) == 25);
	r = row(t, "light cprofile");
	assert_true(r->in_before && !r->in_after && cell(t, r, "ncalls")->after == 0);
	r = row(t, "extra cprofile");
	assert_true(!r->in_before && r->in_after && cell(t, r, "ncalls")->after == 7);
	/* Totals per metric (func: the nodes' self, unchanged here). */
	assert_int_equal(d.ntotals, 2);
	assert_string_equal(d.totals[1].metric, "calls");
	assert_true(d.totals[1].before == 603 && d.totals[1].after == 603);
	diff_free(&d);
	saved_run_free(&s[0]);
	saved_run_free(&s[1]);
}

static void test_folded(void **state)
{
	struct saved_run s[2];
	char *buf = NULL, *line, *save;
	size_t len = 0, lines = 0, doubled = 0;
	FILE *f = open_memstream(&buf, &len);

	load2(FIXTURES "cpu.json", FIXTURES "cpu_after.json", s);
	assert_int_equal(diff_write_folded(f, (const struct profile *const *)s[0].profiles, s[0].n,
					   (const struct profile *const *)s[1].profiles, s[1].n,
					   "offcpu", stderr),
			 0);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		long long before, after;
		char *sp = strrchr(line, ' ');

		assert_non_null(sp);
		after = atoll(sp + 1);
		*sp = 0;
		sp = strrchr(line, ' ');
		assert_non_null(sp);
		before = atoll(sp + 1);
		lines++;
		if (after != before) {
			/* the first stack: 8785199 ns off-CPU, doubled, in us */
			assert_int_equal(before, 8785);
			assert_int_equal(after, 17570);
			assert_non_null(strstr(line, "spin_b;spin_for;"));
			doubled++;
		}
	}
	assert_true(lines > 1);
	assert_int_equal(doubled, 1);
	free(buf);
	f = open_memstream(&buf, &len);
	assert_int_equal(diff_write_folded(f, (const struct profile *const *)s[0].profiles, s[0].n,
					   (const struct profile *const *)s[1].profiles, s[1].n,
					   "nope", f),
			 -EINVAL);
	fclose(f);
	assert_non_null(strstr(buf, "needs a stack report"));
	free(buf);
	saved_run_free(&s[0]);
	saved_run_free(&s[1]);
}

/* A file of another schema version is refused by the loader diff uses. */
static void test_other_version(void **state)
{
	struct saved_run s;
	char *data = NULL, *v;
	size_t len = 0;
	FILE *f = fopen(FIXTURES "func.json", "r");

	assert_non_null(f);
	assert_int_equal(getdelim(&data, &len, 0, f) > 0, 1);
	fclose(f);
	v = strstr(data, "\"version\":2");
	assert_non_null(v);
	v[10] = '1';
	assert_int_equal(saved_run_parse(data, strlen(data), "v1.json", &s), -EINVAL);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_func_rows),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_other_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
