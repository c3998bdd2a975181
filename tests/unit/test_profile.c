/* Unit tests of the profile model: interning, merging, graph, tables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/profile.h"
#include "model/tablesort.h"

static void test_frame_interning(void **state)
{
	(void)state;
	struct profile *p = profile_new("cpu", "CPU");
	assert_non_null(p);
	int64_t a = profile_frame(p, FRAME_USER, "main", "app", 0);
	int64_t b = profile_frame(p, FRAME_USER, "work", "app", 0x10);
	int64_t c = profile_frame(p, FRAME_USER, NULL, "libc.so.6", 0x1a2b);
	int64_t k = profile_frame(p, FRAME_KERNEL, "main", "app", 0);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	assert_int_equal(c, 2);
	assert_int_equal(k, 3); /* same name, other kind: other frame */
	assert_int_equal(profile_frame(p, FRAME_USER, "main", "app", 0), a);
	assert_int_equal(profile_frame(p, FRAME_USER, NULL, "libc.so.6", 0x1a2b), c);
	assert_int_equal(profile_frame(p, FRAME_USER, "main", NULL, 0), 4);
	assert_int_equal(profile_frame(p, FRAME_USER, "main", NULL, 0), 4);
	assert_int_equal(p->nframes, 5);

	/* Many frames force the index to grow; lookups stay exact. */
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(profile_frame(p, FRAME_USER, name, "app", 0), 5 + i);
	}
	assert_int_equal(profile_frame(p, FRAME_USER, "f1234", "app", 0), 5 + 1234);
	assert_int_equal(p->nframes, 5005);
	assert_int_equal(profile_frame(p, 7, "x", NULL, 0), -EINVAL);
	profile_free(p);
}

static void test_frame_names(void **state)
{
	(void)state;
	struct strbuf b = { 0 };
	struct pframe f = { .func = "work", .module = "app", .offset = 0x10 };
	assert_string_equal(pframe_str(&f, &b, 1), "work+0x10");
	assert_ptr_equal(pframe_str(&f, &b, 0), f.func); /* nothing to add: no copy */
	struct pframe u = { .func = NULL, .module = "libc.so.6", .offset = 0x1a2b };
	assert_string_equal(pframe_str(&u, &b, 0), "libc.so.6+0x1a2b");
	struct pframe a = { .func = NULL, .module = NULL, .offset = 0xdead };
	assert_string_equal(pframe_str(&a, &b, 0), "0xdead");
	struct pframe m = { .func = "[off-cpu]", .kind = FRAME_MARKER };
	assert_ptr_equal(pframe_str(&m, &b, 1), m.func);
	assert_string_equal(pframe_str(NULL, &b, 0), "[unknown]");

	/* a name of any length comes out whole, formatted or not */
	char lng[3001], want[3010];
	memset(lng, 'x', 3000);
	lng[3000] = 0;
	struct pframe l = { .func = lng, .module = "app", .offset = 0x10 };
	snprintf(want, sizeof(want), "%s+0x10", lng);
	assert_string_equal(pframe_str(&l, &b, 1), want);
	assert_int_equal(b.len, 3005);
	struct pframe lu = { .func = NULL, .module = lng, .offset = 0x10 };
	assert_string_equal(pframe_str(&lu, &b, 0), want);
	strbuf_free(&b);
}

/* An address the symbolizer placed in no module ("[unknown]") is a frame
 * without a module: 0xaddress in every writer, as docs/FORMATS.md says. */
static void test_unknown_module(void **state)
{
	(void)state;
	struct profile *p = profile_new("cpu", "t");
	struct strbuf b = { 0 };
	int64_t fr = profile_frame(p, FRAME_USER, NULL, PROFILE_UNKNOWN_MODULE, 0xd202);

	assert_true(fr >= 0);
	assert_null(p->frames[fr].module);
	assert_string_equal(pframe_str(&p->frames[fr], &b, 0), "0xd202");
	strbuf_free(&b);
	assert_int_equal(profile_frame(p, FRAME_USER, NULL, NULL, 0xd202), fr);
	profile_free(p);
}

static void test_metrics(void **state)
{
	(void)state;
	struct profile *p = profile_new("cpu", NULL);
	assert_int_equal(profile_add_metric(p, "oncpu", "samples", "on-CPU samples"), 0);
	assert_int_equal(profile_add_metric(p, "offcpu", "ns", "blocked time"), 1);
	assert_int_equal(profile_add_metric(p, "oncpu", "samples", ""), -EEXIST);
	assert_int_equal(profile_metric_index(p, "offcpu"), 1);
	assert_int_equal(profile_metric_index(p, "wall"), -ENOENT);
	char name[16];
	for (int i = 2; i < PROFILE_MAX_METRICS; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		assert_int_equal(profile_add_metric(p, name, "", ""), i);
	}
	assert_int_equal(profile_add_metric(p, "extra", "", ""), -E2BIG);
	assert_string_equal(p->title, "cpu");
	profile_free(p);
}

static void test_sample_merging(void **state)
{
	(void)state;
	struct profile *p = profile_new("cpu", "CPU");
	profile_add_metric(p, "oncpu", "samples", "");
	profile_add_metric(p, "offcpu", "ns", "");
	uint32_t m = profile_frame(p, FRAME_USER, "main", "app", 0);
	uint32_t a = profile_frame(p, FRAME_USER, "a", "app", 0);
	uint32_t b = profile_frame(p, FRAME_USER, "b", "app", 0);
	uint32_t s1[] = { m, a, b }, s2[] = { m, a }, s3[] = { m, b, a };
	int64_t v1[] = { 1, 100 }, v2[] = { 2, 0 };
	assert_int_equal(profile_add_sample(p, s1, 3, v1), 0);
	assert_int_equal(profile_add_sample(p, s2, 2, v1), 0);
	assert_int_equal(profile_add_sample(p, s1, 3, v2), 0);
	assert_int_equal(profile_add_sample(p, s3, 3, v2), 0);
	assert_int_equal(p->nsamples, 3);
	assert_int_equal(p->samples[0].values[0], 3);
	assert_int_equal(p->samples[0].values[1], 100);
	assert_int_equal(p->samples[1].nframes, 2);
	assert_int_equal(p->samples[2].frames[1], b);
	uint32_t bad[] = { m, 99 };
	assert_int_equal(profile_add_sample(p, bad, 2, v1), -EINVAL);

	/* 100k distinct stacks, each added twice: merged exactly. */
	uint32_t st[3] = { m, a, 0 };
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 100000; i++) {
			char name[32];
			snprintf(name, sizeof(name), "leaf%d", i % 50000);
			st[2] = profile_frame(p, FRAME_USER, name, "app", 0);
			st[1] = i < 50000 ? a : b;
			int64_t v[] = { 1, i };
			assert_int_equal(profile_add_sample(p, st, 3, v), 0);
		}
	}
	assert_int_equal(p->nsamples, 3 + 100000);
	/* the sample of leaf7 under b: i = 50007, added twice */
	uint32_t q = profile_frame(p, FRAME_USER, "leaf7", "app", 0);
	uint32_t want[] = { m, b, q };
	size_t found = 0;
	for (size_t i = 0; i < p->nsamples; i++) {
		if (p->samples[i].nframes == 3 &&
		    !memcmp(p->samples[i].frames, want, sizeof(want))) {
			assert_int_equal(p->samples[i].values[0], 2);
			assert_int_equal(p->samples[i].values[1], 2 * 50007);
			found++;
		}
	}
	assert_int_equal(found, 1);
	profile_free(p);
}

static const struct pnode *node_named(const struct profile *p, const char *func)
{
	for (size_t i = 0; i < p->nnodes; i++) {
		const char *f = p->frames[p->nodes[i].frame].func;
		if (f && !strcmp(f, func))
			return &p->nodes[i];
	}
	return NULL;
}

static const struct pedge *edge_named(const struct profile *p, const char *from, const char *to)
{
	for (size_t i = 0; i < p->nedges; i++) {
		const struct pedge *e = &p->edges[i];
		if (!strcmp(p->frames[p->nodes[e->caller].frame].func, from) &&
		    !strcmp(p->frames[p->nodes[e->callee].frame].func, to))
			return e;
	}
	return NULL;
}

static void test_graph_recursion(void **state)
{
	(void)state;
	struct profile *p = profile_new("cpu", "CPU");
	profile_add_metric(p, "oncpu", "samples", "");
	uint32_t m = profile_frame(p, FRAME_USER, "main", "app", 0);
	uint32_t a = profile_frame(p, FRAME_USER, "a", "app", 0x10);
	uint32_t a2 = profile_frame(p, FRAME_USER, "a", "app", 0x24); /* same function */
	uint32_t b = profile_frame(p, FRAME_USER, "b", "app", 0x8);
	uint32_t s1[] = { m, a, b, a2 }; /* main -> a -> b -> a */
	uint32_t s2[] = { m, a };
	uint32_t s3[] = { m, a, b };
	int64_t v10[] = { 10 }, v5[] = { 5 }, v3[] = { 3 };
	profile_add_sample(p, s1, 4, v10);
	profile_add_sample(p, s2, 2, v5);
	profile_add_sample(p, s3, 3, v3);
	assert_int_equal(profile_build_graph(p), 0);
	assert_int_equal(p->nnodes, 3);
	const struct pnode *nm = node_named(p, "main"), *na = node_named(p, "a"),
			   *nb = node_named(p, "b");
	assert_non_null(nm);
	assert_non_null(na);
	assert_non_null(nb);
	assert_int_equal(nm->total[0], 18);
	assert_int_equal(nm->self[0], 0);
	assert_int_equal(na->total[0], 18); /* recursion counted once */
	assert_int_equal(na->self[0], 15);
	assert_int_equal(nb->total[0], 13);
	assert_int_equal(nb->self[0], 3);
	assert_int_equal(p->frames[na->frame].offset, 0); /* node = function */
	/* both offsets of a map to a's node; frames beyond the samples to none */
	assert_ptr_equal(&p->nodes[profile_frame_node(p, a)], na);
	assert_ptr_equal(&p->nodes[profile_frame_node(p, a2)], na);
	assert_ptr_equal(&p->nodes[profile_frame_node(p, m)], nm);
	assert_int_equal(profile_frame_node(p, (uint32_t)p->nframes + 5), -1);
	assert_int_equal(p->nedges, 3);
	assert_int_equal(edge_named(p, "main", "a")->total[0], 18);
	assert_int_equal(edge_named(p, "a", "b")->total[0], 13);
	assert_int_equal(edge_named(p, "b", "a")->total[0], 10);
	assert_null(edge_named(p, "main", "b"));

	/* Rebuilding replaces the graph instead of adding to it. */
	assert_int_equal(profile_build_graph(p), 0);
	assert_int_equal(p->nnodes, 3);
	assert_int_equal(node_named(p, "a")->total[0], 18);
	profile_free(p);
}

static void test_graph_direct(void **state)
{
	(void)state;
	struct profile *p = profile_new("func", "Functions");
	profile_add_metric(p, "time", "ns", "");
	uint32_t f1 = profile_frame(p, FRAME_USER, "main", "app", 0);
	uint32_t f2 = profile_frame(p, FRAME_USER, "heavy", "app", 0);
	int64_t n1 = profile_node(p, f1), n2 = profile_node(p, f2);
	assert_int_equal(n1, 0);
	assert_int_equal(n2, 1);
	assert_int_equal(profile_node(p, f1), 0);
	int64_t e = profile_edge(p, n1, n2);
	assert_int_equal(e, 0);
	assert_int_equal(profile_edge(p, n1, n2), 0);
	assert_int_equal(profile_edge(p, n2, n1), 1);
	assert_int_equal(profile_edge(p, 0, 9), -EINVAL);
	assert_int_equal(profile_node(p, 99), -EINVAL);
	p->edges[e].calls = 7;
	assert_int_equal(p->edges[profile_edge(p, n1, n2)].calls, 7);
	profile_free(p);
}

static void test_table_sort(void **state)
{
	(void)state;
	struct profile *p = profile_new("func", "Functions");
	struct ptable *t = profile_table(p, "functions", "Per function");
	assert_non_null(t);
	assert_ptr_equal(profile_table(p, "functions", NULL), t);
	assert_ptr_equal(profile_find_table(p, "functions"), t);
	assert_null(profile_find_table(p, "threads"));
	assert_int_equal(ptable_add_col(t, "function", "Function", "", COL_STR), 0);
	assert_int_equal(ptable_add_col(t, "calls", "Calls", "count", COL_INT), 1);
	const char *names[] = { "b", "a", "c", "d" };
	int64_t calls[] = { 5, 7, 5, 1 };
	for (int i = 0; i < 4; i++) {
		int64_t r = ptable_add_row(t);
		assert_int_equal(r, i);
		assert_int_equal(ptable_set_str(t, r, 0, names[i]), 0);
		ptable_cell(t, r, 1)->i = calls[i];
	}
	assert_int_equal(ptable_set_str(t, 0, 1, "x"), -EINVAL); /* not a string column */
	assert_null(ptable_cell(t, 4, 0));
	/* A column added later: existing rows keep their cells, new one is 0. */
	assert_int_equal(ptable_add_col(t, "share", "Share", "%", COL_DOUBLE), 2);
	assert_string_equal(ptable_cell(t, 2, 0)->s, "c");
	assert_int_equal(ptable_cell(t, 2, 1)->i, 5);
	assert_true(ptable_cell(t, 2, 2)->d == 0.0);
	ptable_cell(t, 3, 2)->d = 9.5;

	assert_int_equal(ptable_col_index(t, "calls"), 1);
	assert_int_equal(ptable_col_index(t, "Calls"), -ENOENT); /* headers are not keys */
	assert_int_equal(ptable_col_index(t, "nope"), -ENOENT);

	ptable_sort(t, 1, 0); /* descending, stable: a(7) b(5) c(5) d(1) */
	assert_string_equal(ptable_cell(t, 0, 0)->s, "a");
	assert_string_equal(ptable_cell(t, 1, 0)->s, "b");
	assert_string_equal(ptable_cell(t, 2, 0)->s, "c");
	assert_string_equal(ptable_cell(t, 3, 0)->s, "d");
	ptable_sort(t, 1, 1); /* ascending: d a? no: d(1) b(5) c(5) a(7) */
	assert_string_equal(ptable_cell(t, 0, 0)->s, "d");
	assert_string_equal(ptable_cell(t, 1, 0)->s, "b");
	assert_string_equal(ptable_cell(t, 3, 0)->s, "a");
	assert_int_equal(ptable_cell(t, 3, 1)->i, 7);
	ptable_sort(t, 0, 0); /* strings always ascending */
	assert_string_equal(ptable_cell(t, 0, 0)->s, "a");
	assert_string_equal(ptable_cell(t, 3, 0)->s, "d");
	assert_true(ptable_cell(t, 3, 2)->d == 9.5); /* rows move whole */
	ptable_sort(t, 2, 0);
	assert_string_equal(ptable_cell(t, 0, 0)->s, "d");
	/* A string column sorted by the numbers of another ("ncalls" by calls):
	 * descending by calls, not by text */
	ptable_sort_as(t, 0, 1);
	ptable_sort(t, 0, 0);
	assert_string_equal(ptable_cell(t, 0, 0)->s, "a");
	assert_int_equal(ptable_cell(t, 0, 1)->i, 7);
	assert_int_equal(ptable_cell(t, 3, 1)->i, 1);
	assert_string_equal(ptable_cell(t, 3, 0)->s, "d");
	profile_free(p);
}

/* A one-table report with column "calls" (and key) for the -s tests. */
static struct profile *calls_report(const char *report, const char *key)
{
	struct profile *p = profile_new(report, report);
	struct ptable *t = profile_table(p, "t", "T");
	const int64_t calls[] = { 5, 7, 1 };

	assert_int_equal(ptable_add_col(t, key, "Key", "", COL_STR), 0);
	assert_int_equal(ptable_add_col(t, "calls", "Calls", "count", COL_INT), 1);
	for (int i = 0; i < 3; i++) {
		int64_t r = ptable_add_row(t);

		assert_int_equal(ptable_set_str(t, r, 0, (const char[]){ (char)('a' + i), 0 }), 0);
		ptable_cell(t, r, 1)->i = calls[i];
	}
	t->sort_col = 0; /* default: by key, ascending */
	return p;
}

/* -s: tables with the key sort by it, the others take their default; a
 * key no table has changes nothing and names every key once. */
static void test_sort_tables(void **state)
{
	(void)state;
	struct profile *ps[3] = { calls_report("func", "name"), NULL,
				  calls_report("net", "remote") };
	struct ptable *a = ps[0]->tables[0], *b = ps[2]->tables[0];
	char *e;
	size_t el;
	FILE *fe = open_memstream(&e, &el);

	assert_int_equal(profile_sort_tables(ps, 3, "calls", fe), 0);
	assert_int_equal(ptable_cell(a, 0, 1)->i, 7);
	assert_int_equal(ptable_cell(b, 2, 1)->i, 1);
	assert_int_equal(profile_sort_tables(ps, 3, "remote", fe), 0);
	assert_string_equal(ptable_cell(b, 0, 0)->s, "a");
	assert_string_equal(ptable_cell(a, 0, 0)->s, "a"); /* its default order */
	assert_int_equal(profile_sort_tables(ps, 3, "calls", fe), 0);
	assert_int_equal(profile_sort_tables(ps, 3, "Calls", fe), -EINVAL); /* a header */
	assert_int_equal(profile_sort_tables(ps, 3, "bogus", fe), -EINVAL);
	assert_int_equal(ptable_cell(a, 0, 1)->i, 7); /* unchanged */
	assert_int_equal(profile_sort_tables(ps, 3, NULL, fe), 0);
	assert_string_equal(ptable_cell(a, 0, 0)->s, "a");
	assert_int_equal(profile_sort_tables(ps, 3, "bogus", NULL), -EINVAL);
	fclose(fe);
	assert_string_equal(e, "ebprof: unknown sort key 'Calls' (valid: name calls remote)\n"
			       "ebprof: unknown sort key 'bogus' (valid: name calls remote)\n");
	free(e);
	profile_free(ps[0]);
	profile_free(ps[2]);
}

static void test_info_notes(void **state)
{
	(void)state;
	struct profile *p = profile_new("cpu", "CPU");
	assert_int_equal(profile_info_int(p, "duration", "Duration", "ns", 1500000000), 0);
	assert_int_equal(profile_info_str(p, "target", "Target", "app (pid 42)"), 0);
	assert_int_equal(profile_info_double(p, "overhead", "Overhead", "%", 1.5), 0);
	assert_int_equal(profile_info_int(p, "duration", "Duration", "ns", 7), 0);
	assert_int_equal(p->ninfo, 3);
	const struct pinfo *in = profile_get_info(p, "duration");
	assert_non_null(in);
	assert_int_equal(in->v.i, 7);
	assert_string_equal(in->unit, "ns");
	assert_string_equal(profile_get_info(p, "target")->v.s, "app (pid 42)");
	assert_null(profile_get_info(p, "nope"));
	/* retyping a fact frees the old string */
	assert_int_equal(profile_info_int(p, "target", "Target", "", 3), 0);
	assert_int_equal(profile_get_info(p, "target")->type, INFO_INT);
	assert_int_equal(profile_note(p, "probe on %s detached after %d hits", "heavy", 10), 0);
	assert_int_equal(p->notes.n, 1);
	assert_string_equal(p->notes.v[0], "probe on heavy detached after 10 hits");
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_interning), cmocka_unit_test(test_frame_names),
		cmocka_unit_test(test_metrics),		cmocka_unit_test(test_sample_merging),
		cmocka_unit_test(test_graph_recursion), cmocka_unit_test(test_graph_direct),
		cmocka_unit_test(test_table_sort),	cmocka_unit_test(test_sort_tables),
		cmocka_unit_test(test_info_notes),	cmocka_unit_test(test_unknown_module),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
