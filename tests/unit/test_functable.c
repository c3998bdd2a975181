/* The function table of stack profiles: self at the leaf frame, a marker
 * ("[off-cpu]") included, as the graph writers have it; totals counted
 * once per stack, shares of the chosen metric, default order by self then
 * total; functions with nothing of the metric left out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "model/functable.h"
#include "model/profile.h"

static const union pcell *cell(struct ptable *t, size_t row, const char *key)
{
	int c = ptable_col_index(t, key);

	assert_true(c >= 0);
	return ptable_cell(t, row, (size_t)c);
}

static int64_t row_of(struct ptable *t, const char *name)
{
	for (size_t r = 0; r < t->nrows; r++)
		if (!strcmp(cell(t, r, "name")->s, name))
			return (int64_t)r;
	return -1;
}

static const struct pcol_def cols[] = {
	FUNCTABLE_VALUE_COLS,
	{ "samples", "samples", NULL, COL_INT, 0, 0, "oncpu" },
	FUNCTABLE_NAME_COLS,
};
static const struct pcol_def cols1[] = {
	FUNCTABLE_VALUE_COLS,
	FUNCTABLE_NAME_COLS,
};
static const struct ptable_def def1 = { "functions", "Functions", cols1, ARRAY_SIZE(cols1), 0, 0 };
static const struct ptable_def def = { "functions", "Functions", cols, ARRAY_SIZE(cols), 0, 0 };

static void test_self_total_markers(void **state)
{
	struct profile *p = profile_new("cpu", "t");
	int64_t main_f, a, b, sched, off;
	struct ptable *t;

	(void)state;
	assert_int_equal(profile_add_metric(p, "oncpu", "samples", ""), 0);
	assert_int_equal(profile_add_metric(p, "wall", "ns", ""), 1);
	main_f = profile_frame(p, FRAME_USER, "main", "app", 0);
	a = profile_frame(p, FRAME_USER, "a", "app", 0x10);
	b = profile_frame(p, FRAME_USER, "b", "app", 0x20);
	sched = profile_frame(p, FRAME_KERNEL, "schedule", "[kernel]", 0);
	off = profile_frame(p, FRAME_MARKER, "[off-cpu]", NULL, 0);
	{
		/* main;a on CPU: 3 samples = 30 ns of wall. */
		uint32_t s1[] = { main_f, a };
		int64_t v1[] = { 3, 30 };
		/* main;a;b on CPU: 1 sample. */
		uint32_t s2[] = { main_f, a, b };
		int64_t v2[] = { 1, 10 };
		/* main;b;schedule;[off-cpu]: blocked 60 ns, self of the marker. */
		uint32_t s3[] = { main_f, b, sched, off };
		int64_t v3[] = { 0, 60 };
		/* a;a recursion at another offset: total of a counted once. */
		uint32_t s4[] = { a, (uint32_t)profile_frame(p, FRAME_USER, "a", "app", 0x30) };
		int64_t v4[] = { 0, 5 };

		assert_int_equal(profile_add_sample(p, s1, 2, v1), 0);
		assert_int_equal(profile_add_sample(p, s2, 3, v2), 0);
		assert_int_equal(profile_add_sample(p, s3, 4, v3), 0);
		assert_int_equal(profile_add_sample(p, s4, 2, v4), 0);
	}
	assert_int_equal(profile_build_graph(p), 0);
	assert_int_equal(profile_function_table(p, &def, 1), 0);
	t = profile_find_table(p, "functions");
	assert_non_null(t);
	assert_int_equal(t->nrows, 5); /* main, a, b, schedule, [off-cpu] */

	/* Default order: self descending: [off-cpu] 60, a 35, b 10, then
	 * by total: main 100, schedule 60. */
	assert_string_equal(cell(t, 0, "name")->s, "[off-cpu]");
	assert_string_equal(cell(t, 1, "name")->s, "a");
	assert_string_equal(cell(t, 2, "name")->s, "b");
	assert_string_equal(cell(t, 3, "name")->s, "main");
	assert_string_equal(cell(t, 4, "name")->s, "schedule");

	assert_int_equal(cell(t, (size_t)row_of(t, "[off-cpu]"), "self")->i, 60);
	assert_int_equal(cell(t, (size_t)row_of(t, "schedule"), "self")->i, 0);
	assert_int_equal(cell(t, (size_t)row_of(t, "a"), "self")->i, 35);
	/* a;a counts once: 30 + 10 + 5, not 50. */
	assert_int_equal(cell(t, (size_t)row_of(t, "a"), "total")->i, 45);
	assert_int_equal(cell(t, (size_t)row_of(t, "b"), "total")->i, 70);
	assert_int_equal(cell(t, (size_t)row_of(t, "main"), "total")->i, 100);
	assert_int_equal(cell(t, (size_t)row_of(t, "main"), "samples")->i, 4);
	/* Shares of the whole (105 ns). */
	assert_true(cell(t, (size_t)row_of(t, "main"), "total_pct")->d > 95.23 &&
		    cell(t, (size_t)row_of(t, "main"), "total_pct")->d < 95.25);
	assert_true(cell(t, (size_t)row_of(t, "[off-cpu]"), "self_pct")->d > 57.13 &&
		    cell(t, (size_t)row_of(t, "[off-cpu]"), "self_pct")->d < 57.15);
	assert_string_equal(cell(t, (size_t)row_of(t, "schedule"), "module")->s, "[kernel]");
	profile_free(p);
}

/* A function with none of the table's metric has no row: an on-CPU table
 * lists no function that only blocked. */
static void test_metric_rows_only(void **state)
{
	struct profile *p = profile_new("cpu", "t");
	struct ptable *t;

	(void)state;
	assert_int_equal(profile_add_metric(p, "oncpu", "ns", ""), 0);
	assert_int_equal(profile_add_metric(p, "offcpu", "ns", ""), 1);
	{
		uint32_t run[] = { (uint32_t)profile_frame(p, FRAME_USER, "main", "app", 0),
				   (uint32_t)profile_frame(p, FRAME_USER, "spin", "app", 0) };
		uint32_t wait[] = {
			run[0], (uint32_t)profile_frame(p, FRAME_USER, "wait", "app", 0),
			(uint32_t)profile_frame(p, FRAME_MARKER, "[off-cpu]", NULL, 0)
		};
		int64_t von[] = { 7, 0 }, voff[] = { 0, 9 };

		assert_int_equal(profile_add_sample(p, run, 2, von), 0);
		assert_int_equal(profile_add_sample(p, wait, 3, voff), 0);
	}
	assert_int_equal(profile_build_graph(p), 0);
	assert_int_equal(profile_function_table(p, &def, 0), 0);
	t = profile_find_table(p, "functions");
	assert_int_equal(t->nrows, 2);
	assert_true(row_of(t, "main") >= 0 && row_of(t, "spin") >= 0);
	assert_int_equal(row_of(t, "wait"), -1);
	assert_int_equal(row_of(t, "[off-cpu]"), -1);
	profile_free(p);
}

/* Code of a module without symbols is one row per module, "[libx.so]",
 * its self summed and its total counted once per stack (two of its
 * addresses on one stack), whatever the addresses. */
static void test_anonymous_module_row(void **state)
{
	struct profile *p = profile_new("cpu", "t");
	struct ptable *t;
	int64_t r;

	(void)state;
	assert_int_equal(profile_add_metric(p, "oncpu", "ns", ""), 0);
	{
		uint32_t main_f = (uint32_t)profile_frame(p, FRAME_USER, "main", "app", 0);
		uint32_t x1 = (uint32_t)profile_frame(p, FRAME_USER, NULL, "libx.so", 0x1010);
		uint32_t x2 = (uint32_t)profile_frame(p, FRAME_USER, NULL, "libx.so", 0x2020);
		uint32_t x3 = (uint32_t)profile_frame(p, FRAME_USER, NULL, "libx.so", 0x3030);
		uint32_t cb = (uint32_t)profile_frame(p, FRAME_USER, "callback", "app", 0);
		uint32_t jit = (uint32_t)profile_frame(p, FRAME_USER, NULL, "[unknown]", 0x77);
		uint32_t s1[] = { main_f, x1 }, s2[] = { main_f, x2, x3 },
			 s3[] = { main_f, x2, cb };
		uint32_t s4[] = { main_f, jit };
		int64_t v1[] = { 2 }, v2[] = { 3 }, v3[] = { 4 }, v4[] = { 1 };

		assert_int_equal(profile_add_sample(p, s1, 2, v1), 0);
		assert_int_equal(profile_add_sample(p, s2, 3, v2), 0);
		assert_int_equal(profile_add_sample(p, s3, 3, v3), 0);
		assert_int_equal(profile_add_sample(p, s4, 2, v4), 0);
	}
	assert_int_equal(profile_build_graph(p), 0);
	assert_int_equal(profile_function_table(p, &def1, 0), 0);
	t = profile_find_table(p, "functions");
	/* main, [libx.so], callback, and the anonymous mapping's address. */
	assert_int_equal(t->nrows, 4);
	r = row_of(t, "[libx.so]");
	assert_true(r >= 0);
	assert_int_equal(cell(t, (size_t)r, "self")->i, 5);
	assert_int_equal(cell(t, (size_t)r, "total")->i, 9);
	assert_string_equal(cell(t, (size_t)r, "module")->s, "libx.so");
	assert_int_equal(row_of(t, "libx.so+0x1010"), -1);
	assert_true(row_of(t, "0x77") >= 0); /* no module: its own row */
	assert_int_equal(cell(t, (size_t)row_of(t, "callback"), "self")->i, 4);
	/* Ordered among the rest by self: [libx.so] 5 first. */
	assert_string_equal(cell(t, 0, "name")->s, "[libx.so]");
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_total_markers),
		cmocka_unit_test(test_metric_rows_only),
		cmocka_unit_test(test_anonymous_module_row),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
