/* Unit tests of the writers: exact output of small profiles. */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "load/saved.h"
#include "model/functable.h"
#include "model/tablesort.h"
#include "output/writer.h"
#include "proto/profile.pb-c.h"

#include <jansson.h>
#include <zlib.h>

/* ---- fixtures --------------------------------------------------------- */

/* A cpu-like stack profile: oncpu samples and offcpu nanoseconds. */
static struct profile *cpu_profile(void)
{
	struct profile *p = profile_new("cpu", "CPU profile");
	profile_add_metric(p, "oncpu", "samples", "on-CPU samples");
	profile_add_metric(p, "offcpu", "ns", "off-CPU time");
	uint32_t m = profile_frame(p, FRAME_USER, "main", "app", 0);
	uint32_t w = profile_frame(p, FRAME_USER, "work", "app", 0x10);
	uint32_t l = profile_frame(p, FRAME_USER, NULL, "libc.so.6", 0x1a2b);
	uint32_t k = profile_frame(p, FRAME_KERNEL, "do_syscall_64", "[kernel]", 0x20);
	uint32_t o = profile_frame(p, FRAME_MARKER, "[off-cpu]", NULL, 0);
	uint32_t s1[] = { m, w }, s2[] = { m, l, k }, s3[] = { m, o };
	int64_t v1[] = { 5, 0 }, v2[] = { 2, 1499 }, v3[] = { 0, 2500000 };
	profile_add_sample(p, s1, 2, v1);
	profile_add_sample(p, s2, 3, v2);
	profile_add_sample(p, s3, 2, v3);
	return p;
}

/* A func-like profile: exact calls in a graph, and a table. */
static struct profile *func_profile(void)
{
	struct profile *p = profile_new("func", "Functions");
	profile_add_metric(p, "time", "ns", "inclusive time");
	profile_add_metric(p, "calls", "count", "calls");
	profile_info_int(p, "duration", "Duration", "ns", 1500000000);
	profile_info_str(p, "target", "Target", "app (pid 42)");
	profile_info_double(p, "overhead", "Estimated overhead", "%", 2.25);
	profile_note(p, "probe on light detached after 1000000 hits");
	struct ptable *t = profile_table(p, "functions", "Per function");
	ptable_add_col(t, "calls", "Calls", "count", COL_INT);
	ptable_add_col(t, "time", "Total", "ns", COL_INT);
	ptable_add_col(t, "share", "Share", "%", COL_DOUBLE);
	ptable_add_col(t, "function", "Function", "", COL_STR);
	const char *names[] = { "heavy", "light", "medium" };
	int64_t calls[] = { 10, 1000, 100 }, times[] = { 830000000, 12500, 12500000 };
	for (int i = 0; i < 3; i++) {
		int64_t r = ptable_add_row(t);
		ptable_cell(t, r, 0)->i = calls[i];
		ptable_cell(t, r, 1)->i = times[i];
		ptable_cell(t, r, 2)->d = 100.0 * times[i] / 1500000000.0;
		ptable_set_str(t, r, 3, names[i]);
	}
	t->sort_col = 1;
	uint32_t fm = profile_frame(p, FRAME_USER, "main", "app", 0);
	uint32_t fh = profile_frame(p, FRAME_USER, "heavy", "app", 0);
	uint32_t fl = profile_frame(p, FRAME_USER, "light", "app", 0);
	int64_t nm = profile_node(p, fm), nh = profile_node(p, fh), nl = profile_node(p, fl);
	p->nodes[nm].total[0] = 1000000000;
	p->nodes[nm].self[0] = 100000000;
	p->nodes[nm].calls = 1;
	p->nodes[nh].total[0] = p->nodes[nh].self[0] = 830000000;
	p->nodes[nh].calls = 10;
	p->nodes[nl].total[0] = p->nodes[nl].self[0] = 70000000;
	p->nodes[nl].calls = 1000;
	int64_t e = profile_edge(p, nm, nh);
	p->edges[e].calls = 10;
	p->edges[e].total[0] = 830000000;
	e = profile_edge(p, nm, nl);
	p->edges[e].calls = 990;
	p->edges[e].total[0] = 69000000;
	e = profile_edge(p, nh, nl);
	p->edges[e].calls = 10;
	p->edges[e].total[0] = 1000000;
	return p;
}

/* Runs a writer into memory; returns its status, *out and *err malloc'd. */
static int run(const char *fmt, struct profile **ps, size_t n, const struct write_opts *o,
	       char **out, char **err)
{
	size_t ol, el;
	FILE *fo = open_memstream(out, &ol), *fe = open_memstream(err, &el);
	const struct writer *w = writer_find(fmt);
	assert_non_null(w);
	struct write_opts none = { 0 };
	int r = w->write(fo, (const struct profile *const *)ps, n, o ? o : &none, fe);
	fclose(fo);
	fclose(fe);
	return r;
}

/* ---- registry and value formatting ------------------------------------ */

static void test_registry(void **state)
{
	(void)state;
	const char *names[] = {
		"text", "folded", "json", "callgrind", "dot", "pprof", "speedscope"
	};
	for (size_t i = 0; i < 7; i++) {
		assert_non_null(writer_find(names[i]));
		assert_string_equal(writer_find(names[i])->name, names[i]);
		assert_string_equal(writer_list()[i]->name, names[i]);
	}
	assert_null(writer_list()[8]);
	assert_null(writer_find("xml"));
}

static void test_fmt_value(void **state)
{
	(void)state;
	char b[64];
	fmt_value(b, sizeof(b), 1234000000, "ns");
	assert_string_equal(b, "1.234 s");
	fmt_value(b, sizeof(b), 12500000, "ns");
	assert_string_equal(b, "12.5 ms");
	fmt_value(b, sizeof(b), 830000, "ns");
	assert_string_equal(b, "830 us");
	fmt_value(b, sizeof(b), 1500, "ns");
	assert_string_equal(b, "1.50 us");
	fmt_value(b, sizeof(b), 999, "ns");
	assert_string_equal(b, "999 ns");
	fmt_value(b, sizeof(b), 1536, "bytes");
	assert_string_equal(b, "1.50 KiB");
	fmt_value(b, sizeof(b), 300 * 1024 * 1024, "bytes");
	assert_string_equal(b, "300 MiB");
	fmt_value(b, sizeof(b), 512, "bytes");
	assert_string_equal(b, "512 B");
	fmt_value(b, sizeof(b), 1234567, "count");
	assert_string_equal(b, "1234567");
	fmt_double(b, sizeof(b), 12.345, "%");
	assert_string_equal(b, "12.3%");
	fmt_double(b, sizeof(b), 3.0, "");
	assert_string_equal(b, "3");
	fmt_double(b, sizeof(b), 2.5, "");
	assert_string_equal(b, "2.50");
	char s[] = "a\x1b[31mb;c\n";
	fmt_sanitize(s, ";");
	assert_string_equal(s, "a?[31mb?c?");
}

static void test_pick_metric(void **state)
{
	(void)state;
	struct profile *p = cpu_profile();
	char *e;
	size_t el;
	FILE *fe = open_memstream(&e, &el);
	assert_int_equal(writer_pick_metric(p, NULL, fe), 0);
	assert_int_equal(writer_pick_metric(p, "offcpu", fe), 1);
	assert_int_equal(writer_pick_metric(p, "wall", fe), -1);
	fclose(fe);
	assert_string_equal(e, "ebprof: unknown metric 'wall' for report cpu "
			       "(available: oncpu, offcpu)\n");
	free(e);
	profile_free(p);
}

/* ---- folded ----------------------------------------------------------- */

static void test_folded(void **state)
{
	(void)state;
	struct profile *p = cpu_profile();
	char *out, *err;
	/* Same functions at other offsets: one line, values summed before the
	 * ns -> us rounding (2 x 1499 ns = 3 us, not 2 x 1 us). */
	uint32_t m = profile_frame(p, FRAME_USER, "main", "app", 0x40);
	uint32_t l = profile_frame(p, FRAME_USER, NULL, "libc.so.6", 0x1a2b);
	uint32_t k = profile_frame(p, FRAME_KERNEL, "do_syscall_64", "[kernel]", 0x99);
	uint32_t s4[] = { m, l, k };
	int64_t v4[] = { 0, 1499 };
	profile_add_sample(p, s4, 3, v4);
	assert_int_equal(run("folded", &p, 1, NULL, &out, &err), 0);
	assert_string_equal(out, "main;work 5\n"
				 "main;libc.so.6+0x1a2b;do_syscall_64_[k] 2\n");
	assert_string_equal(err, "");
	free(out);
	free(err);

	struct write_opts o = { .metric = "offcpu" };
	assert_int_equal(run("folded", &p, 1, &o, &out, &err), 0);
	/* ns -> us, rounded; the zero sample is skipped */
	assert_string_equal(out, "main;libc.so.6+0x1a2b;do_syscall_64_[k] 3\n"
				 "main;[off-cpu] 2500\n");
	free(out);
	free(err);

	o.metric = "bogus";
	assert_int_equal(run("folded", &p, 1, &o, &out, &err), -EINVAL);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "unknown metric 'bogus'"));
	assert_non_null(strstr(err, "oncpu, offcpu"));
	free(out);
	free(err);

	/* Two stack profiles: the report name becomes the root frame. */
	struct profile *ps[2] = { p, cpu_profile() };
	free(ps[1]->report);
	ps[1]->report = strdup("mem");
	assert_int_equal(run("folded", ps, 2, NULL, &out, &err), 0);
	assert_string_equal(out, "cpu;main;work 5\n"
				 "cpu;main;libc.so.6+0x1a2b;do_syscall_64_[k] 2\n"
				 "mem;main;work 5\n"
				 "mem;main;libc.so.6+0x1a2b;do_syscall_64_[k] 2\n");
	free(out);
	free(err);
	profile_free(ps[1]);
	profile_free(p);

	p = func_profile();
	assert_int_equal(run("folded", &p, 1, NULL, &out, &err), -EINVAL);
	assert_string_equal(err, "ebprof: format folded needs a stack profile\n");
	free(out);
	free(err);
	profile_free(p);
}

/* ---- json ------------------------------------------------------------- */

/* Minimal JSON validator: returns the end of one value or NULL. */
static const char *jvalue(const char *s);

static const char *jws(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static const char *jstring(const char *s)
{
	if (*s++ != '"')
		return NULL;
	while (*s && *s != '"') {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
						return NULL;
				s += 4;
			} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
				return NULL;
			}
		}
		s++;
	}
	return *s == '"' ? s + 1 : NULL;
}

static const char *jseq(const char *s, char close, int keyed)
{
	s = jws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (keyed) {
			if (!(s = jstring(jws(s))))
				return NULL;
			s = jws(s);
			if (*s++ != ':')
				return NULL;
		}
		if (!(s = jvalue(s)))
			return NULL;
		s = jws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *jvalue(const char *s)
{
	s = jws(s);
	if (*s == '{')
		return jseq(s, '}', 1);
	if (*s == '[')
		return jseq(s, ']', 0);
	if (*s == '"')
		return jstring(s);
	if (!strncmp(s, "null", 4) || !strncmp(s, "true", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	char *end;
	strtod(s, &end);
	return end > s ? end : NULL;
}

static int json_valid(const char *s)
{
	const char *e = jvalue(s);
	return e && *jws(e) == '\0';
}

static void test_json(void **state)
{
	(void)state;
	struct profile *ps[2] = { cpu_profile(), func_profile() };
	/* a hostile function name: quotes, backslash, control, invalid UTF-8 */
	ptable_set_str(ps[1]->tables[0], 1, 3, "we\"ird\\\n\x01\xff\xc3\xa9");
	char *out, *err;
	assert_int_equal(run("json", ps, 2, NULL, &out, &err), 0);
	assert_string_equal(err, "");
	assert_true(json_valid(out));
	assert_true(
		!strncmp(out, "{\"schema\":\"ebprof-profile\",\"version\":2,\"ebprof\":\"", 48));
	assert_non_null(strstr(out, "\"report\":\"cpu\",\"title\":\"CPU profile\""));
	assert_non_null(strstr(out, "\"metrics\":[{\"name\":\"oncpu\",\"unit\":\"samples\","
				    "\"desc\":\"on-CPU samples\"},{\"name\":\"offcpu\""));
	assert_non_null(strstr(out, "\"default_metric\":\"oncpu\""));
	assert_non_null(strstr(out, "{\"func\":null,\"module\":\"libc.so.6\",\"offset\":6699,"
				    "\"kind\":\"user\"}"));
	assert_non_null(strstr(out, "{\"func\":\"do_syscall_64\",\"module\":\"[kernel]\","
				    "\"offset\":32,\"kind\":\"kernel\"}"));
	assert_non_null(strstr(out, "\"kind\":\"marker\""));
	assert_non_null(strstr(out, "{\"stack\":[0,2,3],\"values\":[2,1499]}"));
	assert_non_null(strstr(out, "\"info\":{\"duration\":1500000000,\"target\":\"app (pid 42)\","
				    "\"overhead\":2.25}"));
	assert_non_null(strstr(out, "\"info_units\":{\"duration\":\"ns\",\"target\":\"\","
				    "\"overhead\":\"%\"}"));
	assert_non_null(strstr(out, "\"notes\":[\"probe on light detached after 1000000 hits\"]"));
	assert_non_null(strstr(out, "{\"frame\":1,\"self\":[830000000,0],\"total\":[830000000,0],"
				    "\"calls\":10}"));
	assert_non_null(strstr(out, "{\"caller\":0,\"callee\":2,\"calls\":990,"
				    "\"total\":[69000000,0]}"));
	assert_non_null(strstr(out, "{\"key\":\"share\",\"header\":\"Share\",\"unit\":\"%\","
				    "\"type\":\"double\"}"));
	assert_non_null(strstr(out, "\"we\\\"ird\\\\\\n\\u0001\\u00ff\xc3\xa9\""));
	/* rows as the table has them (the writer does not sort), all of them */
	const char *h = strstr(out, "[10,830000000,"), *m = strstr(out, "[100,12500000,"),
		   *l = strstr(out, "[1000,12500,");
	assert_true(h && m && l && h < l && l < m);
	/* the cpu profile's graph was not derived behind the caller's back */
	assert_non_null(strstr(out, "\"nodes\":[],\n\"edges\":[]"));
	free(out);
	free(err);

	/* in the table's default order (time, descending) once the run loop sorted */
	assert_int_equal(profile_sort_tables(ps, 2, NULL, NULL), 0);
	assert_int_equal(run("json", ps, 2, NULL, &out, &err), 0);
	h = strstr(out, "[10,830000000,");
	m = strstr(out, "[100,12500000,");
	l = strstr(out, "[1000,12500,");
	assert_true(h && m && l && h < m && m < l);
	free(out);
	free(err);

	struct write_opts o = { .limit = 1 };
	assert_int_equal(profile_sort_tables(ps, 2, "calls", NULL), 0);
	assert_int_equal(run("json", ps, 2, &o, &out, &err), 0);
	h = strstr(out, "[10,830000000,");
	m = strstr(out, "[100,12500000,");
	l = strstr(out, "[1000,12500,");
	assert_true(h && m && l && l < m && m < h); /* sorted by calls, not limited */
	free(out);
	free(err);
	profile_free(ps[0]);
	profile_free(ps[1]);
}

/* ---- text ------------------------------------------------------------- */

static void test_text(void **state)
{
	(void)state;
	struct profile *p = func_profile();
	char *out, *err;
	struct write_opts o = { .limit = 2 };
	assert_int_equal(profile_sort_tables(&p, 1, NULL, NULL), 0); /* the run loop's */
	assert_int_equal(run("text", &p, 1, &o, &out, &err), 0);
	assert_string_equal(err, "");
	assert_string_equal(out, "Functions\n"
				 "=========\n"
				 "Duration:           1.500 s\n"
				 "Target:             app (pid 42)\n"
				 "Estimated overhead: 2.2%\n"
				 "note: probe on light detached after 1000000 hits\n"
				 "\n"
				 "Per function\n"
				 "Calls    Total  Share  Function\n"
				 "   10   830 ms  55.3%  heavy\n"
				 "  100  12.5 ms   0.8%  medium\n"
				 "... 1 more rows (use -n 0 for all)\n");
	free(out);
	free(err);

	/* Tables are printed in the order they have: -s is the run loop's. */
	assert_int_equal(profile_sort_tables(&p, 1, "calls", NULL), 0);
	o.limit = 0;
	assert_int_equal(run("text", &p, 1, &o, &out, &err), 0);
	const char *a = strstr(out, "light"), *b = strstr(out, "medium"), *c = strstr(out, "heavy");
	assert_true(a && b && c && a < b && b < c);
	free(out);
	free(err);

	/* A second report's table, empty. */
	struct profile *ps[2] = { p, profile_new("net", "Network") };
	struct ptable *t = profile_table(ps[1], "sockets", "Sockets");
	ptable_add_col(t, "remote", "Remote", "", COL_STR);
	ptable_add_col(t, "calls", "Calls", "count", COL_INT);
	assert_int_equal(run("text", ps, 2, &o, &out, &err), 0);
	assert_non_null(strstr(out, "\nSockets\nRemote  Calls\n(none)\n"));
	free(out);
	free(err);
	profile_free(ps[1]);

	/* A hidden column still sorts, but is not printed. */
	struct ptable *ft = profile_find_table(p, "functions");
	assert_non_null(ft);
	ptable_hide_col(ft, 0);
	assert_int_equal(profile_sort_tables(&p, 1, "calls", NULL), 0);
	assert_int_equal(run("text", &p, 1, &o, &out, &err), 0);
	if (!strstr(out, "\nPer function\n  Total  Share  Function\n"))
		fail_msg("%s", out);
	a = strstr(out, "heavy"), b = strstr(out, "medium"), c = strstr(out, "light");
	assert_true(a && b && c && c < b && b < a); /* by calls, descending */
	free(out);
	free(err);

	/* A text_skip column: text leaves out the rows where it is nonzero
	 * (and counts the rows it shows), json keeps every row. */
	int sk = ptable_add_col(ft, "skip", "Skip", "count", COL_INT);
	assert_true(sk >= 0);
	for (size_t r = 0; r < ft->nrows; r++)
		ptable_cell(ft, (int64_t)r, (size_t)sk)->i = !strcmp(ft->cells[r * ft->ncols + 3].s,
								     "heavy");
	ptable_hide_col(ft, (size_t)sk);
	ptable_skip_rows_by(ft, (size_t)sk);
	assert_int_equal(run("text", &p, 1, &o, &out, &err), 0);
	if (strstr(out, "heavy") || !strstr(out, "medium") || !strstr(out, "light"))
		fail_msg("%s", out);
	free(out);
	free(err);
	o.limit = 1;
	assert_int_equal(run("text", &p, 1, &o, &out, &err), 0);
	assert_non_null(strstr(out, "... 1 more rows"));
	o.limit = 0;
	free(out);
	free(err);
	assert_int_equal(run("json", &p, 1, &o, &out, &err), 0);
	assert_non_null(strstr(out, "heavy"));
	assert_non_null(strstr(out, "\"text_skip\":true"));
	free(out);
	free(err);
	profile_free(p);
}

static void test_text_callers(void **state)
{
	(void)state;
	struct profile *p = func_profile();
	char *out, *err;
	struct write_opts o = { .callers = "light", .callees = "main" };
	assert_int_equal(run("text", &p, 1, &o, &out, &err), 0);
	assert_non_null(strstr(out, "\nFunction light was called by...\n"
				    "calls     time  caller\n"
				    "  990  69.0 ms  main\n"
				    "   10  1.00 ms  heavy\n"));
	assert_non_null(strstr(out, "\nFunction main called...\n"
				    "calls     time  callee\n"
				    "   10   830 ms  heavy\n"
				    "  990  69.0 ms  light\n"));
	free(out);
	free(err);

	o.callers = "nope";
	assert_int_equal(run("text", &p, 1, &o, &out, &err), -EINVAL);
	assert_string_equal(out, "");
	assert_string_equal(err, "ebprof: no function 'nope' in the report\n");
	free(out);
	free(err);
	profile_free(p);
}

/* The function table of a stack profile, as cpu defines one. */
static const struct pcol_def stack_cols[] = { FUNCTABLE_VALUE_COLS, FUNCTABLE_NAME_COLS };
static const struct ptable_def stack_def = {
	"functions", "Functions", stack_cols, ARRAY_SIZE(stack_cols), 0, 0,
};

/* A stack profile's function table is its collector's (profile_function_table,
 * as cpu builds it); the text writer prints it like any table. */
static void test_text_stack_profile(void **state)
{
	(void)state;
	struct profile *p = cpu_profile();
	char *out, *err;
	struct write_opts o = { 0 };

	assert_int_equal(run("text", &p, 1, &o, &out, &err), 0);
	assert_string_equal(out, "CPU profile\n===========\n"); /* no table derived */
	free(out);
	free(err);

	assert_int_equal(profile_build_graph(p), 0);
	assert_int_equal(profile_function_table(p, &stack_def, 0), 0);
	assert_int_equal(profile_sort_tables(&p, 1, "total", NULL), 0);
	assert_int_equal(run("text", &p, 1, &o, &out, &err), 0);
	if (!strstr(out, "\nFunctions\n"
			 "self%  total%  self  total  function       module\n"
			 " 0.0%  100.0%     0      7  main           app\n"
			 "71.4%   71.4%     5      5  work           app\n"))
		fail_msg("%s", out);
	assert_non_null(strstr(out, "28.6%   28.6%     2      2  do_syscall_64  [kernel]\n"));
	assert_non_null(strstr(out, " 0.0%   28.6%     0      2  [libc.so.6]    libc.so.6\n"));
	assert_null(strstr(out, "[off-cpu]")); /* no on-CPU time of its own */
	free(out);
	free(err);
	profile_free(p);
}

/* ---- callgrind and dot ------------------------------------------------ */

static void test_callgrind(void **state)
{
	(void)state;
	struct profile *p = func_profile();
	char *out, *err;
	assert_int_equal(run("callgrind", &p, 1, NULL, &out, &err), 0);
	assert_string_equal(out, "# callgrind format\n"
				 "version: 1\n"
				 "creator: ebprof\n"
				 "cmd: Functions\n"
				 "positions: line\n"
				 "event: time_ns : inclusive time\n"
				 "event: calls : calls\n"
				 "events: time_ns calls\n"
				 "summary: 1000000000 0\n"
				 "\n"
				 "fl=(1) ???\n"
				 "ob=(1) app\n"
				 "fn=(1) main\n"
				 "0 100000000 0\n"
				 "cob=(1)\n"
				 "cfn=(2) heavy\n"
				 "calls=10 0\n"
				 "0 830000000 0\n"
				 "cob=(1)\n"
				 "cfn=(3) light\n"
				 "calls=990 0\n"
				 "0 69000000 0\n"
				 "\n"
				 "ob=(1)\n"
				 "fn=(2)\n"
				 "0 830000000 0\n"
				 "cob=(1)\n"
				 "cfn=(3)\n"
				 "calls=10 0\n"
				 "0 1000000 0\n"
				 "\n"
				 "ob=(1)\n"
				 "fn=(3)\n"
				 "0 70000000 0\n"
				 "\n");
	free(out);
	free(err);

	/* a stack profile's graph is its collector's (here built by the test);
	 * several graphs need a choice */
	struct profile *ps[2] = { cpu_profile(), p };
	assert_int_equal(profile_build_graph(ps[0]), 0);
	assert_int_equal(run("callgrind", ps, 2, NULL, &out, &err), -EINVAL);
	assert_string_equal(err, "ebprof: format callgrind renders one report; name one of: "
				 "cpu func\n");
	free(out);
	free(err);
	assert_int_equal(run("callgrind", ps, 1, NULL, &out, &err), 0);
	assert_non_null(strstr(out, "events: oncpu offcpu_ns\nsummary: 7 2501499\n"));
	assert_non_null(strstr(out, "cob=(2) libc.so.6\ncfn=(3) [libc.so.6]\ncalls=1 0\n"
				    "0 2 1499\n"));
	assert_non_null(strstr(out,
			       "ob=(2)\nfn=(3)\n0 0 0\n"
			       "cob=(4) [kernel]\ncfn=(4) do_syscall_64\ncalls=1 0\n0 2 1499\n"));
	free(out);
	free(err);
	profile_free(ps[0]);
	profile_free(p);
}

static void test_dot(void **state)
{
	(void)state;
	struct profile *p = func_profile();
	/* a function far below 0.5%: pruned with its edge */
	uint32_t f = profile_frame(p, FRAME_USER, "tiny", "app", 0);
	int64_t n = profile_node(p, f);
	p->nodes[n].total[0] = p->nodes[n].self[0] = 1000;
	profile_edge(p, 0, n);
	char *out, *err;
	assert_int_equal(run("dot", &p, 1, NULL, &out, &err), 0);
	assert_true(!strncmp(out, "digraph ebprof {\n", 17));
	assert_non_null(strstr(out, "// pruned 1 nodes below 0.5% of the total"));
	assert_non_null(strstr(out, "n1 [label=\"heavy\\napp\\n83.00% (83.00%)\\n10\xc3\x97\""));
	assert_non_null(strstr(out, "n0 [label=\"main\\napp\\n100.00% (10.00%)\\n1\xc3\x97\", "
				    "fillcolor=\"#f26161\"]"));
	assert_non_null(strstr(out, "n0 -> n1 [label=\"10\xc3\x97\""));
	assert_null(strstr(out, "tiny"));
	assert_null(strstr(out, "-> n3"));
	assert_string_equal(out + strlen(out) - 2, "}\n");
	free(out);
	free(err);
	profile_free(p);
}

/* ---- one attribution of self time in every writer --------------------- */

/* The callgrind self cost of metric m of the function named name. */
static long long callgrind_self(const char *out, const char *name, int m)
{
	char want[128], line[256];
	long long v[4] = { 0 };
	const char *at;
	int id = -1, n;

	for (at = out; (at = strstr(at, "fn=(")) && id < 0; at++)
		if (sscanf(at, "fn=(%d) %127[^\n]", &n, line) == 2 && !strcmp(line, name))
			id = n;
	assert_true(id >= 0);
	snprintf(want, sizeof(want), "\nfn=(%d", id);
	at = strstr(out, want);
	assert_non_null(at);
	at = strchr(at + 1, '\n') + 1;
	assert_int_equal(sscanf(at, "0 %lld %lld", &v[0], &v[1]), 2);
	return v[m];
}

/* The self share in a dot node's label "name\n...\nT% (S%)". */
static double dot_self(const char *out, const char *name)
{
	char want[128];
	const char *at;
	double total, self;

	snprintf(want, sizeof(want), "[label=\"%s\\n", name);
	at = strstr(out, want);
	if (!at)
		fail_msg("no node %s in\n%s", name, out);
	while (*at && sscanf(at, "%lf%% (%lf%%)", &total, &self) != 2)
		at++;
	assert_true(*at);
	return self;
}

/* Off-CPU time belongs to the leaf frame of its stack, the marker, in the
 * function table (text, json), callgrind and dot alike; the time blocked
 * since before attach is a row of the table too. */
static void test_offcpu_self_everywhere(void **state)
{
	(void)state;
	struct profile *p = cpu_profile();
	uint32_t m = profile_frame(p, FRAME_USER, "main", "app", 0);
	uint32_t k = profile_frame(p, FRAME_KERNEL, "__schedule", "[kernel]", 0);
	uint32_t o = profile_frame(p, FRAME_MARKER, "[off-cpu]", NULL, 0);
	uint32_t b = profile_frame(p, FRAME_MARKER, "[blocked since before attach]", NULL, 0);
	uint32_t s1[] = { m, k, o }, s2[] = { b, o };
	int64_t v1[] = { 0, 1500000 }, v2[] = { 0, 1000000 };
	const char *names[] = { "[off-cpu]", "__schedule", "[blocked since before attach]",
				"work" };
	struct write_opts wo = { .metric = "offcpu" };
	char *cg, *dot, *err;

	profile_add_sample(p, s1, 3, v1);
	profile_add_sample(p, s2, 2, v2);
	assert_int_equal(profile_build_graph(p), 0);
	assert_int_equal(profile_function_table(p, &stack_def, 1), 0);
	assert_int_equal(run("callgrind", &p, 1, &wo, &cg, &err), 0);
	free(err);
	assert_int_equal(run("dot", &p, 1, &wo, &dot, &err), 0);
	free(err);
	struct ptable *t = profile_find_table(p, "functions");
	int ci = ptable_col_index(t, "self"), pi = ptable_col_index(t, "self_pct"),
	    ni = ptable_col_index(t, "name"), ti = ptable_col_index(t, "total_pct");
	int found = 0;
	for (size_t r = 0; r < t->nrows; r++) {
		const char *name = ptable_cell(t, r, (size_t)ni)->s;
		int64_t self = ptable_cell(t, r, (size_t)ci)->i;
		double pct = ptable_cell(t, r, (size_t)pi)->d;

		assert_int_equal(callgrind_self(cg, name, 1), self);
		/* dot prunes what is below 0.5 % of the total */
		if (ptable_cell(t, r, (size_t)ti)->d >= 0.5)
			assert_true(fabs(dot_self(dot, name) - pct) < 0.006);
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			found += !strcmp(names[i], name);
	}
	assert_int_equal(found, 3); /* work has no off-CPU time: no row */
	/* 2500000 + 1500000 + 1000000 blocked, all under [off-cpu] */
	assert_int_equal(callgrind_self(cg, "[off-cpu]", 1), 5000000);
	assert_int_equal(callgrind_self(cg, "[blocked since before attach]", 1), 0);
	assert_int_equal(callgrind_self(cg, "__schedule", 1), 0);
	free(cg);
	free(dot);
	profile_free(p);
}

/* ---- saved profiles: json and back ----------------------------------- */

/* Every format renders the loaded profiles byte for byte as the originals. */
static void assert_same_output(const char *fmt, struct profile **a, struct profile **b, size_t n,
			       const struct write_opts *o)
{
	char *oa, *ob, *ea, *eb;

	assert_int_equal(run(fmt, a, n, o, &oa, &ea), 0);
	assert_int_equal(run(fmt, b, n, o, &ob, &eb), 0);
	assert_true(strlen(oa) > 0);
	assert_string_equal(oa, ob);
	free(oa);
	free(ob);
	free(ea);
	free(eb);
}

static void test_saved_round_trip(void **state)
{
	struct profile *ps[2] = { cpu_profile(), func_profile() };
	struct run_meta run_in = { .command = "ebprof -f heavy -- app",
				   .target = "app",
				   .kernel = "6.1.0",
				   .version = "0.1.0",
				   .duration_ns = 1500000000 };
	struct write_opts o = { .run = &run_in }, callers = { .callers = "light" };
	struct saved_run s;
	char *json, *err;
	/* A kernel address above INT64_MAX, a hidden column sorted through
	 * another, a non-finite and an integral double. */
	uint32_t k = profile_frame(ps[0], FRAME_KERNEL, NULL, "[kernel]", 0xffffffff81234567ULL);
	int64_t v[] = { 3, 0 };
	struct ptable *t = ps[1]->tables[0];
	int c = ptable_add_col(t, "prim", "Prim", "count", COL_INT);

	profile_add_sample(ps[0], &k, 1, v);
	ptable_hide_col(t, c);
	ptable_skip_rows_by(t, c);
	ptable_sort_as(t, 0, c);
	profile_info_double(ps[1], "nan", "not a number", "", NAN);
	profile_info_double(ps[1], "whole", "a whole double", "ns", 2.0);

	assert_int_equal(run("json", ps, 2, &o, &json, &err), 0);
	assert_int_equal(saved_run_parse(json, strlen(json), "test.json", &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.run.command, run_in.command);
	assert_string_equal(s.run.target, "app");
	assert_string_equal(s.run.kernel, "6.1.0");
	assert_int_equal(s.run.duration_ns, 1500000000);
	assert_int_equal(profile_get_info(s.profiles[1], "whole")->type, INFO_DOUBLE);
	assert_int_equal(s.profiles[1]->tables[0]->cols[c].text_hidden, 1);
	assert_int_equal(s.profiles[1]->tables[0]->cols[c].text_skip, 1);
	assert_int_equal(s.profiles[1]->tables[0]->cols[0].sort_as, c + 1);
	assert_same_output("text", ps, s.profiles, 2, NULL);
	assert_same_output("text", ps + 1, s.profiles + 1, 1, &callers);
	assert_same_output("folded", ps, s.profiles, 1, NULL);
	assert_same_output("callgrind", ps + 1, s.profiles + 1, 1, NULL);
	assert_same_output("json", ps, s.profiles, 2, &o);
	saved_run_free(&s);
	free(json);
	free(err);
	profile_free(ps[0]);
	profile_free(ps[1]);
}

/* Files that are not a saved profile of this version: one line, -EINVAL. */
static void test_saved_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"{\"schema\":\"ebprof-profile\",\"version\":1,\"reports\":[]}",
		"{\"schema\":\"other\",\"version\":2,\"reports\":[]}",
		"{\"schema\":\"ebprof-profile\",\"version\":2,\"reports\":[{\"report\":\"x\","
		"\"metrics\":[],\"info\":{},\"notes\":[],\"frames\":[],\"samples\":["
		"{\"stack\":[0],\"values\":[]}],\"nodes\":[],\"edges\":[],\"tables\":[]}]}",
		"[1,2",
	};
	struct saved_run s;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(saved_run_parse(bad[i], strlen(bad[i]), "bad.json", &s), -EINVAL);
		assert_int_equal(s.n, 0);
		assert_null(s.profiles);
	}
}

/* The pprof writer's output for ps, gunzipped and unpacked with the
 * generated protobuf-c code (free with ..._free_unpacked). */
static Perftools__Profiles__Profile *pprof_render(struct profile *const *ps, size_t n)
{
	char *buf = NULL;
	size_t len = 0, cap = 1 << 20;
	uint8_t *raw = malloc(cap);
	z_stream z = { 0 };
	FILE *f = open_memstream(&buf, &len);
	struct write_opts o = { 0 };
	Perftools__Profiles__Profile *pb;

	assert_non_null(raw);
	assert_int_equal(writer_pprof.write(f, (const struct profile *const *)ps, n, &o, stderr),
			 0);
	fclose(f);
	assert_true(len > 2 && (uint8_t)buf[0] == 0x1f && (uint8_t)buf[1] == 0x8b);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (uint8_t *)buf;
	z.avail_in = (uInt)len;
	z.next_out = raw;
	z.avail_out = (uInt)cap;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	pb = perftools__profiles__profile__unpack(NULL, z.total_out, raw);
	inflateEnd(&z);
	assert_non_null(pb);
	free(raw);
	free(buf);
	return pb;
}

/* pprof: the saved cpu fixture rendered and unpacked: sample types, names
 * and values are the profile's. */
static void test_pprof(void **state)
{
	struct saved_run s;
	Perftools__Profiles__Profile *pb;
	int64_t sum = 0;

	(void)state;
	assert_int_equal(saved_run_load("tests/unit/fixtures/saved/cpu.json", &s), 0);
	pb = pprof_render(s.profiles, s.n);
	assert_int_equal(pb->n_sample_type, 3);
	assert_string_equal(pb->string_table[pb->sample_type[1]->type], "offcpu");
	assert_string_equal(pb->string_table[pb->sample_type[1]->unit], "nanoseconds");
	assert_string_equal(pb->string_table[pb->default_sample_type], "wall");
	assert_int_equal(pb->n_sample, s.profiles[0]->nsamples);
	for (size_t i = 0; i < pb->n_sample; i++)
		sum += pb->sample[i]->value[1];
	assert_true(sum == profile_metric_total(s.profiles[0], 1));
	/* the first sample's leaf is a marker, its root libc's entry */
	Perftools__Profiles__Sample *s0 = pb->sample[0];
	Perftools__Profiles__Location *root =
		pb->location[s0->location_id[s0->n_location_id - 1] - 1];
	assert_string_equal(pb->string_table[pb->function[root->line[0]->function_id - 1]->name],
			    "__libc_start_call_main");
	assert_string_equal(pb->string_table[pb->mapping[root->mapping_id - 1]->filename],
			    "libc.so.6");
	perftools__profiles__profile__free_unpacked(pb, NULL);
	saved_run_free(&s);
}

/* speedscope on the cpu fixture: one profile per metric with the samples'
 * values as weights, frames shared and named as in folded. */
static void test_speedscope(void **state)
{
	struct profile *p = cpu_profile();
	char *out, *err;
	json_error_t je;

	(void)state;
	assert_int_equal(run("speedscope", &p, 1, NULL, &out, &err), 0);
	json_t *doc = json_loads(out, 0, &je), *profs = json_object_get(doc, "profiles");
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "$schema")),
			    "https://www.speedscope.app/file-format-schema.json");
	assert_int_equal(json_array_size(profs), 2);
	json_t *off = json_array_get(profs, 1), *frames;
	assert_string_equal(json_string_value(json_object_get(off, "name")), "cpu: offcpu");
	assert_string_equal(json_string_value(json_object_get(off, "unit")), "nanoseconds");
	/* stacks with offcpu: main;libc+0x1a2b;do_syscall_64 1499 and main;[off-cpu] 2500000 */
	assert_int_equal(json_array_size(json_object_get(off, "weights")), 2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(off, "weights"), 1)),
			 2500000);
	assert_int_equal(json_integer_value(json_object_get(off, "endValue")), 2501499);
	frames = json_object_get(json_object_get(doc, "shared"), "frames");
	json_t *st = json_array_get(json_object_get(off, "samples"), 0);
	assert_int_equal(json_array_size(st), 3);
	json_t *f1 = json_array_get(frames, (size_t)json_integer_value(json_array_get(st, 1)));
	assert_string_equal(json_string_value(json_object_get(f1, "name")), "libc.so.6+0x1a2b");
	assert_string_equal(json_string_value(json_object_get(f1, "file")), "libc.so.6");
	assert_int_equal(json_array_size(frames), 5);
	json_decref(doc);
	free(out);
	free(err);
	profile_free(p);
}

/* svg on the cpu fixture: frames with their shares, names escaped, the
 * marker coloured as off-CPU; a report without stacks is refused. */
static void test_svg(void **state)
{
	struct profile *p = cpu_profile(), *f = func_profile();
	char *out, *err;

	(void)state;
	profile_frame(p, FRAME_USER, "a<b&c", "app", 0);
	uint32_t m = 0, h = (uint32_t)profile_frame(p, FRAME_USER, "a<b&c", "app", 0),
		 s[] = { m, h };
	int64_t v[] = { 3, 0 };
	profile_add_sample(p, s, 2, v);
	assert_int_equal(run("svg", &p, 1, NULL, &out, &err), 0);
	/* main: every sample (10 oncpu); work: 5 of them; names escaped */
	static const char *const want[] = {
		"<svg version=\"1.1\"",
		"data-n=\"all\"",
		"data-x=\"0.0000000000\" data-w=\"1.0000000000\" data-d=\"1\" data-n=\"main\"",
		"data-w=\"0.5000000000\" data-d=\"2\" data-n=\"work\"",
		"data-n=\"a&lt;b&amp;c\"",
		"function init(evt)",
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!strstr(out, want[i]))
			fail_msg("svg lacks %s", want[i]);
	assert_null(strstr(out, "a<b"));
	free(out);
	free(err);
	/* the func fixture has a graph but no stacks */
	assert_int_equal(run("svg", &f, 1, NULL, &out, &err), -EINVAL);
	assert_non_null(strstr(err, "needs stacks"));
	free(out);
	free(err);
	profile_free(p);
	profile_free(f);
}

/* ---- names of any length --------------------------------------------- */

#define LONG_LEN 3000

/* A 3000-byte demangled-looking name with semi, space and tab at fixed
 * places: the raw name with (';', ' ', '\t'), and each writer's sanitized
 * spelling with the replacement it makes ('?'). */
static char *long_name(char semi, char space, char tab)
{
	char *s = malloc(LONG_LEN + 1);
	assert_non_null(s);
	for (size_t i = 0; i < LONG_LEN; i++)
		s[i] = (char)('a' + i % 26);
	memcpy(s, "ns::", 4);
	s[1000] = semi;
	s[2000] = space;
	s[2500] = tab;
	s[LONG_LEN] = 0;
	return s;
}

/* A 700-byte module path: its frames without a symbol are
 * "module+0x1a2b", its function node "[module]". */
static char *long_module(void)
{
	char *s = malloc(701);
	assert_non_null(s);
	memset(s, 'm', 700);
	memcpy(s, "/opt/", 5);
	memcpy(s + 697, ".so", 4);
	return s;
}

static char *cat3(const char *a, const char *b, const char *c)
{
	char *s;
	assert_true(asprintf(&s, "%s%s%s", a, b, c) > 0);
	return s;
}

/* Fails unless out holds a, b and c in a row. */
static void assert_has(const char *fmt, const char *out, const char *a, const char *b,
		       const char *c)
{
	char *want = cat3(a, b, c);
	if (!strstr(out, want))
		fail_msg("%s lacks the whole name (%zu bytes)", fmt, strlen(want));
	free(want);
}

/* The JSON frame object of array frames whose key is want, or NULL. */
static json_t *json_frame(json_t *frames, const char *key, const char *want)
{
	for (size_t i = 0; i < json_array_size(frames); i++) {
		const char *v = json_string_value(json_object_get(json_array_get(frames, i), key));
		if (v && !strcmp(v, want))
			return json_array_get(frames, i);
	}
	return NULL;
}

/* A 3000-byte function name and a 700-byte module come out whole in every
 * writer, sanitized where that writer sanitizes, and the profile's own
 * strings are left as they were. */
static void test_long_names(void **state)
{
	(void)state;
	char *raw = long_name(';', ' ', '\t'), *folded = long_name('?', ' ', '?'),
	     *shown = long_name(';', ' ', '?'), *mod = long_module();
	char *modoff = cat3(mod, "+0x1a2b", ""), *modnode = cat3("[", mod, "]");
	struct profile *p = profile_new("cpu", "CPU profile");
	profile_add_metric(p, "oncpu", "samples", "on-CPU samples");
	uint32_t m = profile_frame(p, FRAME_USER, "main", "app", 0);
	uint32_t l = profile_frame(p, FRAME_USER, raw, "app", 0x10);
	uint32_t u = profile_frame(p, FRAME_USER, NULL, mod, 0x1a2b);
	uint32_t s1[] = { m, l }, s2[] = { m, l, u };
	int64_t v1[] = { 5 }, v2[] = { 2 };
	profile_add_sample(p, s1, 2, v1);
	profile_add_sample(p, s2, 3, v2);
	assert_int_equal(profile_build_graph(p), 0);
	assert_int_equal(profile_function_table(p, &stack_def, 0), 0);
	assert_int_equal(profile_sort_tables(&p, 1, "total", NULL), 0);
	char *out, *err, *want;

	assert_int_equal(run("folded", &p, 1, NULL, &out, &err), 0);
	assert_true(asprintf(&want, "main;%s 5\nmain;%s;%s 2\n", folded, folded, modoff) > 0);
	assert_string_equal(out, want);
	free(want);
	free(out);
	free(err);

	/* text: the function column as wide as the long name, short names
	 * padded to it; the callee column is the last, unpadded */
	struct write_opts o = { .callees = "main" };
	assert_int_equal(run("text", &p, 1, &o, &out, &err), 0);
	char pad[LONG_LEN + 1];
	memset(pad, ' ', sizeof(pad) - 1);
	pad[LONG_LEN - 4] = 0;
	assert_has("text", out, "  main", pad, "  app\n");
	pad[LONG_LEN - 4] = ' ';
	pad[LONG_LEN - strlen(modnode)] = 0;
	assert_has("text", out, modnode, pad, "  ");
	assert_has("text", out, "  ", shown, "  app\n");
	assert_has("text", out, "callee\n    0      7  ", shown, "\n");
	free(out);
	free(err);

	assert_int_equal(run("callgrind", &p, 1, NULL, &out, &err), 0);
	assert_has("callgrind", out, "cfn=(2) ", shown, "\n");
	assert_has("callgrind", out, "cfn=(3) ", modnode, "\n");
	free(out);
	free(err);

	assert_int_equal(run("dot", &p, 1, NULL, &out, &err), 0);
	assert_has("dot", out, "[label=\"", shown, "\\napp\\n");
	assert_has("dot", out, "[label=\"", modnode, "\\n");
	free(out);
	free(err);

	assert_int_equal(run("svg", &p, 1, NULL, &out, &err), 0);
	assert_has("svg", out, "data-n=\"", shown, "\"");
	assert_has("svg", out, "data-n=\"", modoff, "\"");
	free(out);
	free(err);

	json_error_t je;
	assert_int_equal(run("speedscope", &p, 1, NULL, &out, &err), 0);
	json_t *doc = json_loads(out, 0, &je);
	json_t *frames = json_object_get(json_object_get(doc, "shared"), "frames");
	assert_non_null(json_frame(frames, "name", raw));
	assert_string_equal(
		json_string_value(json_object_get(json_frame(frames, "name", modoff), "file")),
		mod);
	json_decref(doc);
	free(out);
	free(err);

	assert_int_equal(run("json", &p, 1, NULL, &out, &err), 0);
	doc = json_loads(out, 0, &je);
	frames = json_object_get(json_array_get(json_object_get(doc, "reports"), 0), "frames");
	assert_non_null(json_frame(frames, "func", raw));
	assert_non_null(json_frame(frames, "module", mod));
	json_decref(doc);
	free(out);
	free(err);

	Perftools__Profiles__Profile *pb = pprof_render(&p, 1);
	int got_func = 0, got_mod = 0;
	for (size_t i = 0; i < pb->n_function; i++) {
		got_func |= !strcmp(pb->string_table[pb->function[i]->name], raw);
		got_mod |= !strcmp(pb->string_table[pb->function[i]->name], modoff);
	}
	assert_true(got_func && got_mod);
	perftools__profiles__profile__free_unpacked(pb, NULL);

	/* the writers sanitized copies */
	assert_string_equal(p->frames[l].func, raw);
	free(raw);
	free(folded);
	free(shown);
	free(mod);
	free(modoff);
	free(modnode);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_pprof),
		cmocka_unit_test(test_speedscope),
		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_fmt_value),
		cmocka_unit_test(test_pick_metric),
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_callers),
		cmocka_unit_test(test_text_stack_profile),
		cmocka_unit_test(test_callgrind),
		cmocka_unit_test(test_dot),
		cmocka_unit_test(test_offcpu_self_everywhere),
		cmocka_unit_test(test_saved_round_trip),
		cmocka_unit_test(test_saved_rejects),
		cmocka_unit_test(test_long_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
