/* The option parser: values, reports, targets and every usage error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/options.h"

static char errbuf[4096];

/* Parses a NULL-terminated list of words; returns the result, with what
 * was written to stderr in errbuf. */
static enum parse_result parse(struct options *o, ...)
{
	static char *argv[64];
	static char store[64][256];
	va_list ap;
	const char *w;
	int argc = 0;
	FILE *out = fopen("/dev/null", "w");
	FILE *err = fmemopen(errbuf, sizeof(errbuf) - 1, "w");
	enum parse_result r;

	memset(errbuf, 0, sizeof(errbuf));
	argv[argc++] = "ebprof";
	va_start(ap, o);
	while ((w = va_arg(ap, const char *))) {
		snprintf(store[argc], sizeof(store[argc]), "%s", w);
		argv[argc] = store[argc];
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	r = options_parse(argc, argv, o, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void assert_usage(enum parse_result r, const char *needle)
{
	assert_int_equal(r, PARSE_USAGE);
	if (!strstr(errbuf, needle))
		fail_msg("stderr '%s' lacks '%s'", errbuf, needle);
	/* One line, prefixed. */
	assert_int_equal(strncmp(errbuf, "ebprof: ", 8), 0);
	assert_ptr_equal(strchr(errbuf, '\n'), errbuf + strlen(errbuf) - 1);
}

static void test_defaults_pid(void **state)
{
	struct options o;

	(void)state;
	assert_int_equal(parse(&o, "-p", "42", NULL), PARSE_OK);
	assert_int_equal(o.pid, 42);
	assert_int_equal(o.frequency, 99);
	assert_string_equal(o.format, "text");
	assert_int_equal(o.limit, 30);
	assert_null(o.argv);
	assert_int_equal(o.nreports, 0);
	assert_true(options_wants_report(&o, "cpu"));
	assert_false(options_wants_report(&o, "func"));
}

static void test_full(void **state)
{
	struct options o;

	(void)state;
	assert_int_equal(parse(&o, "-d", "1.5", "-F", "4999", "--format", "folded", "-o",
			       "x.folded", "-s", "total_pct", "-n", "0", "--metric", "offcpu",
			       "-vv", "--min-block", "250", "cpu", "--", "./app", "-x", "--y",
			       NULL),
			 PARSE_OK);
	assert_true(o.duration > 1.49 && o.duration < 1.51);
	assert_int_equal(o.frequency, 4999);
	assert_string_equal(o.format, "folded");
	assert_string_equal(o.output, "x.folded");
	assert_string_equal(o.sort, "total_pct");
	assert_int_equal(o.limit, 0);
	assert_int_equal(o.limit_set, 1);
	assert_string_equal(o.metric, "offcpu");
	assert_int_equal(o.verbose, 2);
	assert_int_equal(o.min_block_ns, 250000);
	assert_int_equal(o.nreports, 1);
	assert_string_equal(o.reports[0], "cpu");
	/* Options after "--" belong to the command. */
	assert_non_null(o.argv);
	assert_string_equal(o.argv[0], "./app");
	assert_string_equal(o.argv[1], "-x");
	assert_string_equal(o.argv[2], "--y");
	assert_null(o.argv[3]);
}

static void test_func_patterns(void **state)
{
	struct options o;

	(void)state;
	assert_int_equal(parse(&o, "-f", "heavy,medium", "-f", "libc:malloc", "--count-only",
			       "--max-overhead", "0", "--", "app", NULL),
			 PARSE_OK);
	assert_int_equal(o.nfunc_patterns, 3);
	assert_string_equal(o.func_patterns[0], "heavy");
	assert_string_equal(o.func_patterns[1], "medium");
	assert_string_equal(o.func_patterns[2], "libc:malloc");
	assert_true(options_wants_report(&o, "func"));
	assert_false(options_wants_report(&o, "cpu")); /* -f names a report */
	assert_int_equal(o.count_only, 1);
	assert_true(o.max_overhead == 0);
}

static void test_errors(void **state)
{
	struct options o;

	(void)state;
	assert_usage(parse(&o, NULL), "no target");
	assert_usage(parse(&o, "-p", "12x", NULL), "invalid pid '12x'");
	assert_usage(parse(&o, "-p", "0", NULL), "invalid pid");
	assert_usage(parse(&o, "-p", "1", "--", "ls", NULL), "not both");
	assert_usage(parse(&o, "-p", "1", "-d", "0", NULL), "invalid duration");
	assert_usage(parse(&o, "-p", "1", "-d", "abc", NULL), "invalid duration");
	assert_usage(parse(&o, "-p", "1", "-F", "0", NULL), "invalid frequency");
	assert_usage(parse(&o, "-p", "1", "-F", "1000000", NULL), "invalid frequency");
	assert_usage(parse(&o, "-p", "1", "--format", "xml", NULL), "unknown format 'xml'");
	assert_usage(parse(&o, "-p", "1", "-n", "-3", NULL), "invalid limit");
	assert_usage(parse(&o, "-p", "1", "bogus", NULL), "unknown report 'bogus'");
	assert_usage(parse(&o, "-p", "1", "--frobnicate", NULL), "unknown option '--frobnicate'");
	assert_usage(parse(&o, "-p", NULL), "needs a value");
	assert_usage(parse(&o, "--", NULL), "must be followed by a command");
	assert_usage(parse(&o, "-p", "1", "-f", ",", NULL), "at least one function");
	assert_usage(parse(&o, "-p", "1", "--max-overhead", "-1", NULL), "invalid --max-overhead");
	assert_usage(parse(&o, "-p", "1", "--callers", "x", NULL), "need the func report");
	assert_usage(parse(&o, "-p", "1", "func", NULL), "needs -f");
	assert_usage(parse(&o, "-p", "1", "-o", "", NULL), "empty output");
	assert_usage(parse(&o, "-p", "1", "cpu", "-f", "x", "--format", "dot", NULL),
		     "renders one report");
	/* A launched command shares stdout: machine formats need -o. */
	assert_usage(parse(&o, "--format", "dot", "--", "ls", NULL), "needs -o FILE");
	assert_usage(parse(&o, "--format", "json", "--", "ls", NULL), "needs -o FILE");
	assert_int_equal(parse(&o, "--format", "json", "-o", "x.json", "--", "ls", NULL), PARSE_OK);
	assert_int_equal(parse(&o, "--format", "json", "-p", "1", NULL), PARSE_OK);
	assert_int_equal(parse(&o, "--", "ls", NULL), PARSE_OK);
	assert_int_equal(parse(&o, "-p", "1", "-f", "x", "--raw-times", NULL), PARSE_OK);
	assert_int_equal(o.raw_times, 1);
}

static void test_stream(void **state)
{
	struct options o;

	(void)state;
	assert_int_equal(parse(&o, "-p", "1", "--stream", "--format", "jsonl", NULL), PARSE_OK);
	assert_int_equal(o.stream, 1);
	assert_true(options_wants_report(&o, "net"));
	assert_false(options_wants_report(&o, "cpu"));
	assert_string_equal(o.format, "jsonl");
	assert_usage(parse(&o, "-p", "1", "--format", "jsonl", NULL), "is for --stream");
	assert_usage(parse(&o, "-p", "1", "--stream", "cpu", NULL), "net events only");
	assert_usage(parse(&o, "-p", "1", "--stream", "--format", "json", NULL), "tsv or jsonl");
	assert_usage(parse(&o, "-p", "1", "--stream", "-s", "tx_bytes", NULL), "no -s");
}

/* --children: the cpu report only (named or by default), refused with
 * any other. */
static void test_children(void **state)
{
	struct options o;

	(void)state;
	assert_int_equal(parse(&o, "-p", "1", NULL), PARSE_OK);
	assert_int_equal(o.children, 0);
	assert_int_equal(parse(&o, "--children", "-p", "1", NULL), PARSE_OK);
	assert_int_equal(o.children, 1);
	assert_int_equal(parse(&o, "-p", "1", "--children", "cpu", NULL), PARSE_OK);
	assert_int_equal(o.children, 1);
	assert_usage(parse(&o, "--children", "func", "-f", "x", "-p", "1", NULL),
		     "--children: only the cpu report follows child processes (not func)");
	assert_usage(parse(&o, "--children", "-f", "x", "-p", "1", NULL), "(not func)");
	assert_usage(parse(&o, "--children", "cpu", "mem", "-p", "1", NULL), "(not mem)");
	assert_usage(parse(&o, "--children", "--stream", "-p", "1", NULL), "(not net)");
	assert_usage(parse(&o, "report", "x.json", "--children", NULL), "only output options");
}

static void test_help_version(void **state)
{
	struct options o;

	(void)state;
	assert_int_equal(parse(&o, "--help", NULL), PARSE_EXIT_OK);
	assert_int_equal(parse(&o, "-V", NULL), PARSE_EXIT_OK);
}

/* ebprof report FILE: output options and report names; no live options. */
static void test_report_mode(void **state)
{
	struct options o;
	enum parse_result r = parse(&o, "report", "run.json", "-s", "calls", "--format",
				    "callgrind", "func", NULL);

	if (r != PARSE_OK)
		fail_msg("report mode: %s", errbuf);
	assert_int_equal(o.mode, MODE_REPORT);
	assert_string_equal(o.input, "run.json");
	assert_string_equal(o.sort, "calls");
	assert_string_equal(o.format, "callgrind");
	assert_int_equal(o.nreports, 1);
	assert_string_equal(o.reports[0], "func");
	assert_usage(parse(&o, "report", NULL), "needs a saved profile");
	/* a saved profile's names were made when it was collected */
	assert_usage(parse(&o, "report", "run.json", "--no-demangle", NULL), "only output options");
	assert_int_equal(parse(&o, "--no-demangle", "-p", "1", NULL), PARSE_OK);
	assert_int_equal(o.no_demangle, 1);
	assert_int_equal(parse(&o, "-p", "1", NULL), PARSE_OK);
	assert_int_equal(o.no_demangle, 0);
	assert_usage(parse(&o, "report", "run.json", "-d", "1", NULL), "only output options");
	assert_usage(parse(&o, "report", "run.json", "--save", "x.json", NULL),
		     "only output options");
	/* -o FILE.json saves the profile; --format still decides. */
	assert_int_equal(parse(&o, "-p", "1", "-o", "run.json", NULL), PARSE_OK);
	assert_string_equal(o.format, "json");
	assert_int_equal(parse(&o, "-p", "1", "--format", "text", "-o", "run.json", NULL),
			 PARSE_OK);
	assert_string_equal(o.format, "text");
	assert_int_equal(parse(&o, "-p", "1", "--save", "s.json", NULL), PARSE_OK);
	assert_string_equal(o.save, "s.json");
	assert_int_equal(o.mode, MODE_RUN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_pid),  cmocka_unit_test(test_full),
		cmocka_unit_test(test_func_patterns), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_stream),	      cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_report_mode),   cmocka_unit_test(test_children),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
