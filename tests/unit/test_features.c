/* --features: parsed without a target, one line per feature after the
 * header, in the order of FEATURES(); answers cached.  Whether each is
 * present depends on the machine (and on privileges): not checked here,
 * but in tests/e2e/test_cpu.py. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/options.h"
#include "run/features.h"

static void test_features_option(void **state)
{
	(void)state;
	char *argv[] = { "ebprof", "--features", NULL };
	struct options o;
	char *buf = NULL, *line, *save;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len), *err = fopen("/dev/null", "w");
	int n = 0;

	assert_non_null(out);
	assert_int_equal(options_parse(2, argv, &o, out, err), PARSE_EXIT_OK);
	fclose(out);
	fclose(err);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		char key[64], present[8];

		assert_int_equal(sscanf(line, "%63s %7s", key, present), 2);
		if (n == 0) {
			assert_string_equal(key, "feature");
			continue;
		}
		assert_true(n <= FEAT_MAX);
		assert_string_equal(key, feature_key((enum feature)(n - 1)));
		assert_true(!strcmp(present, "yes") || !strcmp(present, "no"));
		assert_int_equal(!strcmp(present, "yes"), feature_has((enum feature)(n - 1)));
	}
	assert_int_equal(n, FEAT_MAX + 1);
	free(buf);
}

static void test_require(void **state)
{
	(void)state;
	enum feature f = FEAT_RINGBUF;

	/* the answer is the cached one; a missing feature is -ENOTSUP */
	assert_int_equal(features_require("test", &f, 1), feature_has(f) ? 0 : -ENOTSUP);
	assert_int_equal(features_require("test", NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features_option),
		cmocka_unit_test(test_require),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
