/* --assert expressions: the grammar (units, operators, names), and their
 * evaluation over saved profiles whose values are known (a func run of the
 * cprofile workload, a cpu run of cpusplit: tests/unit/fixtures/saved/). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "load/saved.h"
#include "model/assertion.h"

#define FIXTURES "tests/unit/fixtures/saved/"

static void parses(const char *text, const char *subject, const char *column, const char *arg,
		   enum assert_op op, enum assert_unit unit, double limit)
{
	struct assertion a;
	char err[256] = "";

	assert_int_equal(assertion_parse(text, &a, err, sizeof(err)), 0);
	assert_string_equal(a.subject, subject);
	assert_string_equal(a.column, column);
	if (arg)
		assert_string_equal(a.arg, arg);
	else
		assert_null(a.arg);
	assert_int_equal(a.op, op);
	assert_int_equal(a.unit, unit);
	assert_true(a.limit == limit);
	assertion_free(&a);
}

static void rejects(const char *text, const char *why)
{
	struct assertion a;
	char err[256] = "";

	assert_int_equal(assertion_parse(text, &a, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fail_msg("'%s': message '%s' does not say '%s'", text, err, why);
	assert_null(a.text);
}

static void test_grammar(void **state)
{
	parses("heavy.cumtime < 9s", "heavy", "cumtime", NULL, AOP_LT, AU_TIME, 9e9);
	parses("medium.p99<15ms", "medium", "p99", NULL, AOP_LT, AU_TIME, 15e6);
	parses("medium.ncalls == 400", "medium", "ncalls", NULL, AOP_EQ, AU_NONE, 400);
	parses("cpu.self(hot_a) < 70%", "cpu", "self", "hot_a", AOP_LT, AU_PCT, 70);
	parses("mem.leaked <= 1MB", "mem", "leaked", NULL, AOP_LE, AU_BYTES, 1e6);
	parses("mem.leaked > 2 KiB", "mem", "leaked", NULL, AOP_GT, AU_BYTES, 2048);
	parses("net.retransmits != 0", "net", "retransmits", NULL, AOP_NE, AU_NONE, 0);
	parses("foo.cold.tottime >= 1.5us", "foo.cold", "tottime", NULL, AOP_GE, AU_TIME, 1500);
	parses("f.calls > -1", "f", "calls", NULL, AOP_GT, AU_NONE, -1);
	parses("func.cumtime(a<b) < 2e3ns", "func", "cumtime", "a<b", AOP_LT, AU_TIME, 2000);

	rejects("", "empty");
	rejects("heavy.cumtime", "no comparison");
	rejects("heavy.cumtime 9s", "no comparison");
	rejects("< 9s", "nothing before");
	rejects("heavy < 9s", "FUNCTION.COLUMN");
	rejects(".cumtime < 9s", "FUNCTION.COLUMN");
	rejects("heavy.CumTime < 9s", "not a column");
	rejects("heavy.cumtime < 9 parsecs", "unknown unit 'parsecs'");
	rejects("heavy.cumtime < fast", "expected a number");
	rejects("heavy.cumtime < 0x10", "decimal");
	rejects("heavy.cumtime < inf", "expected a number");
	rejects("heavy.cumtime < 1e999s", "finite");
	rejects("heavy.cumtime << 1s", "two operators");
	rejects("cpu.self(hot_a < 70%", "REPORT.COLUMN(ROW)");
	rejects("cpu.self() < 70%", "row name");
	rejects("a b.self < 1", "blank");
	/* an operator character outside (ROW) ends the name */
	rejects("f<int>.calls > 1", "FUNCTION.COLUMN");
}

static struct saved_run load(const char *name)
{
	struct saved_run s;

	assert_int_equal(saved_run_load(name, &s), 0);
	return s;
}

/* The value of text over s, or the errno of its evaluation. */
static int eval(const struct saved_run *s, const char *text, double *v, char *err, size_t len)
{
	struct assertion a;
	const char *unit;
	int r;

	assert_int_equal(assertion_parse(text, &a, err, len), 0);
	r = assertion_eval(&a, (const struct profile *const *)s->profiles, s->n, v, &unit, err,
			   len);
	if (!r)
		r = assertion_holds(&a, *v);
	assertion_free(&a);
	return r;
}

/* text fails to evaluate over s with code, saying why. */
static void eval_fails(const struct saved_run *s, const char *text, int code, const char *why)
{
	char err[256] = "";
	double v;

	assert_int_equal(eval(s, text, &v, err, sizeof(err)), code);
	if (!strstr(err, why))
		fail_msg("'%s': message '%s' does not say '%s'", text, err, why);
}

static void test_func_profile(void **state)
{
	struct saved_run s = load(FIXTURES "func.json");
	char err[256];
	double v;

	/* cprofile 20: heavy twice, medium 400 times, light 200 times. */
	assert_int_equal(eval(&s, "medium.ncalls == 400", &v, err, sizeof(err)), 1);
	assert_true(v == 400);
	assert_int_equal(eval(&s, "medium.ncalls == 401", &v, err, sizeof(err)), 0);
	assert_int_equal(eval(&s, "light.ncalls >= 200", &v, err, sizeof(err)), 1);
	/* Values of the file: heavy cumtime 523218937 ns, medium p99
	 * 4128768 ns. */
	assert_int_equal(eval(&s, "heavy.cumtime < 9s", &v, err, sizeof(err)), 1);
	assert_true(v == 523218937);
	assert_int_equal(eval(&s, "heavy.cumtime < 523ms", &v, err, sizeof(err)), 0);
	assert_int_equal(eval(&s, "heavy.cumtime <= 523218937ns", &v, err, sizeof(err)), 1);
	assert_int_equal(eval(&s, "medium.p99 < 15ms", &v, err, sizeof(err)), 1);
	assert_true(v == 4128768);
	assert_int_equal(eval(&s, "medium.p99 > 5ms", &v, err, sizeof(err)), 0);
	assert_int_equal(eval(&s, "func.cumtime(medium) < 1s", &v, err, sizeof(err)), 1);
	assert_int_equal(eval(&s, "func.functions == 4", &v, err, sizeof(err)), 1);

	eval_fails(&s, "nope.cumtime < 1s", -ENOENT, "no function or row 'nope'");
	eval_fails(&s, "func.nofield < 1", -ENOENT, "no field 'nofield'");
	eval_fails(&s, "heavy.cumtime < 9", -EINVAL, "needs a unit");
	eval_fails(&s, "heavy.ncalls < 9s", -EINVAL, "not a time");
	eval_fails(&s, "heavy.cumtime < 9%", -EINVAL, "no share");
	eval_fails(&s, "func.command == 1", -EINVAL, "text");
	saved_run_free(&s);
}

static void test_cpu_profile(void **state)
{
	struct saved_run s = load(FIXTURES "cpu.json");
	char err[256];
	double v;

	/* spin_for: self 77.2% of wall, 157 samples. */
	assert_int_equal(eval(&s, "cpu.self(spin_for) < 70%", &v, err, sizeof(err)), 0);
	assert_true(v > 77.1 && v < 77.3);
	assert_int_equal(eval(&s, "cpu.self(spin_for) < 80%", &v, err, sizeof(err)), 1);
	assert_int_equal(eval(&s, "spin_for.samples == 157", &v, err, sizeof(err)), 1);
	assert_int_equal(eval(&s, "cpu.total(spin_for) > 99%", &v, err, sizeof(err)), 1);
	assert_int_equal(eval(&s, "cpu.self(spin_for) < 2s", &v, err, sizeof(err)), 1);
	eval_fails(&s, "cpu.self(nope) < 2s", -ENOENT, "no row 'nope'");
	saved_run_free(&s);
}

/* kstones: a time divided by the report's calibration (info kstone_ns,
 * here 1 ms per kstone); refused without one. */
static void test_kstones(void **state)
{
	struct saved_run s = load(FIXTURES "func.json");
	char err[256];
	double v;

	parses("heavy.cumtime < 900 kstones", "heavy", "cumtime", NULL, AOP_LT, AU_KSTONES, 900);
	eval_fails(&s, "heavy.cumtime < 900 kstones", -EINVAL, "--calibrate");
	assert_int_equal(profile_info_double(s.profiles[0], "kstone_ns", "k", "ns", 1e6), 0);
	assert_int_equal(eval(&s, "heavy.cumtime < 900 kstones", &v, err, sizeof(err)), 1);
	assert_true(v > 523.218 && v < 523.219);
	assert_int_equal(eval(&s, "heavy.cumtime < 500 kstones", &v, err, sizeof(err)), 0);
	assert_int_equal(eval(&s, "func.cumtime(medium) >= 288 kstones", &v, err, sizeof(err)), 1);
	eval_fails(&s, "medium.ncalls < 5 kstones", -EINVAL, "not a time");
	saved_run_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_func_profile),
		cmocka_unit_test(test_cpu_profile),
		cmocka_unit_test(test_kstones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
