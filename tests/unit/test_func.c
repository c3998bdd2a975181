/* func collector helpers: histogram buckets and percentiles, the loss
 * counter list.  The probe layer's are in test_probe.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "collect/func_hist.h"

static void test_hist_buckets(void **state)
{
	/* every bucket's lower bound maps back to the bucket, and bounds grow */
	for (uint32_t b = 0; b + 1 < FUNC_HIST_BUCKETS; b++) {
		assert_int_equal(func_hist_bucket(func_hist_lower(b)), b);
		assert_true(func_hist_lower(b + 1) > func_hist_lower(b));
		assert_int_equal(func_hist_bucket(func_hist_lower(b + 1) - 1), b);
	}
	assert_int_equal(func_hist_bucket(0), 0);
	assert_int_equal(func_hist_bucket(7), 7);
	assert_int_equal(func_hist_bucket(8), 8);
	assert_int_equal(func_hist_bucket(1000000), func_hist_bucket(1000001));
	/* 12.5 % wide above 8 ns */
	assert_int_equal(func_hist_lower(func_hist_bucket(1000000)), 983040);
	assert_int_equal(func_hist_bucket(UINT64_MAX), FUNC_HIST_BUCKETS - 1);
	assert_int_equal(func_hist_bucket(1ull << FUNC_HIST_MAX_LOG2), FUNC_HIST_BUCKETS - 1);
	for (uint64_t v = 1; v < (1ull << 40); v = v * 3 + 1)
		assert_int_equal(func_hist_log2(v), 63 - __builtin_clzll(v));
}

static void test_percentiles(void **state)
{
	uint64_t h[FUNC_HIST_BUCKETS] = { 0 };
	uint64_t p50, p99;

	assert_int_equal(func_hist_percentile(h, FUNC_HIST_BUCKETS, 50, 0, 0), 0);
	/* 90 calls of 1 ms, 10 calls of 100 ms */
	h[func_hist_bucket(1000000)] = 90;
	h[func_hist_bucket(100000000)] = 10;
	p50 = func_hist_percentile(h, FUNC_HIST_BUCKETS, 50, 1000000, 100000000);
	p99 = func_hist_percentile(h, FUNC_HIST_BUCKETS, 99, 1000000, 100000000);
	/* within the bucket's 12.5 % */
	assert_true(p50 >= 1000000 && p50 <= 1125000);
	assert_true(p99 >= 100000000 * 0.875 && p99 <= 100000000);
	/* clamped to min and max */
	assert_int_equal(func_hist_percentile(h, FUNC_HIST_BUCKETS, 0, 1000000, 100000000),
			 1000000);
	assert_int_equal(func_hist_percentile(h, FUNC_HIST_BUCKETS, 100, 1000000, 100000000),
			 100000000);
	/* one exact small value */
	memset(h, 0, sizeof(h));
	h[5] = 3;
	assert_int_equal(func_hist_percentile(h, FUNC_HIST_BUCKETS, 50, 5, 5), 5);
}

/* The loss counters: one list gives the enum, keys and labels. */
static void test_losses(void **state)
{
#define KEY_(name, key, label) key,
	static const char *const keys[] = { FUNC_LOSSES(KEY_) };
#undef KEY_
#define LABEL_(name, key, label) label,
	static const char *const labels[] = { FUNC_LOSSES(LABEL_) };
#undef LABEL_

	assert_int_equal(sizeof(keys) / sizeof(keys[0]), FUNC_CNT_MAX);
	assert_int_equal(FUNC_CNT_OVERFLOW, 0);
	assert_string_equal(keys[FUNC_CNT_OVERFLOW], "lost_overflow");
	assert_string_equal(keys[FUNC_CNT_DETACHED], "lost_detached");
	assert_string_equal(labels[FUNC_CNT_NO_ENTRY], "returns without a seen entry");
	for (int i = 0; i < FUNC_CNT_MAX; i++) {
		assert_int_equal(strncmp(keys[i], "lost_", 5), 0);
		assert_true(labels[i][0] != 0);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(keys[i], keys[j]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_losses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
