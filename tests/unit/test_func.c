/* func collector helpers: histogram buckets and percentiles, pattern
 * splitting, library names, close-match suggestions, governor choices,
 * instructions uprobes refuse, cookies, attach choice, the generation
 * switch, closing links. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "collect/func_user.h"
#include "probe/uprobe_multi.h"

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
	assert_int_equal(func_hist_percentile(h, FUNC_HIST_BUCKETS, 0, 1000000, 100000000), 1000000);
	assert_int_equal(func_hist_percentile(h, FUNC_HIST_BUCKETS, 100, 1000000, 100000000),
			 100000000);
	/* one exact small value */
	memset(h, 0, sizeof(h));
	h[5] = 3;
	assert_int_equal(func_hist_percentile(h, FUNC_HIST_BUCKETS, 50, 5, 5), 5);
}

static void test_split(void **state)
{
	char buf[64];
	const char *lib, *glob;

	assert_int_equal(func_split_pattern("libc:malloc", buf, sizeof(buf), &lib, &glob), 1);
	assert_string_equal(lib, "libc");
	assert_string_equal(glob, "malloc");
	assert_int_equal(func_split_pattern("heavy*", buf, sizeof(buf), &lib, &glob), 0);
	assert_null(lib);
	assert_string_equal(glob, "heavy*");
	assert_int_equal(func_split_pattern("ns::f", buf, sizeof(buf), &lib, &glob), 0);
	assert_int_equal(func_split_pattern("/usr/lib/x.so:f*", buf, sizeof(buf), &lib, &glob), 1);
	assert_string_equal(lib, "/usr/lib/x.so");
	assert_string_equal(glob, "f*");
}

static void test_lib_matches(void **state)
{
	const char *libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";

	assert_true(func_lib_matches(libc, "libc"));
	assert_true(func_lib_matches(libc, "c"));
	assert_true(func_lib_matches(libc, "libc.so.6"));
	assert_true(func_lib_matches(libc, libc));
	assert_false(func_lib_matches("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "libc"));
	assert_false(func_lib_matches(libc, "libm"));
	assert_true(func_lib_matches("/lib/libfoo-2.1.so", "libfoo"));
	assert_false(func_lib_matches(libc, "/lib/libc.so.6"));
	assert_false(func_lib_matches(libc, ""));
}

static void test_suggest(void **state)
{
	const char *names[] = { "main", "heavy", "medium", "light", "_start", "heavy_helper" };
	char buf[128];

	assert_int_equal(func_edit_distance("hevy", "heavy"), 1);
	assert_int_equal(func_edit_distance("", "abc"), 3);
	assert_int_equal(func_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(func_suggest("hevy", names, 6, buf, sizeof(buf), 3), 1);
	assert_string_equal(buf, "heavy");
	/* substring matches, exact-length first */
	assert_int_equal(func_suggest("HEAVY*", names, 6, buf, sizeof(buf), 3), 2);
	assert_string_equal(buf, "heavy, heavy_helper");
	assert_int_equal(func_suggest("zzzzzzzz", names, 6, buf, sizeof(buf), 3), 0);
	assert_string_equal(buf, "");
}

static void test_governor(void **state)
{
	struct func_rate r[3] = {
		{ .hits_per_s = 1000, .attached = 1 },   /* 1 % at 10 us */
		{ .hits_per_s = 100000, .attached = 1 }, /* 100 % */
		{ .hits_per_s = 4000, .attached = 1 },   /* 4 % */
	};
	size_t pick[3];

	assert_true(func_overhead_pct(r, 3, 10000) > 104.9 &&
		    func_overhead_pct(r, 3, 10000) < 105.1);
	/* budget 5 %: only the hottest goes */
	assert_int_equal(func_governor_pick(r, 3, 10000, 5, pick), 1);
	assert_int_equal(pick[0], 1);
	/* budget 2 %: then the next hottest */
	assert_int_equal(func_governor_pick(r, 3, 10000, 2, pick), 2);
	assert_int_equal(pick[1], 2);
	/* already detached functions cost nothing */
	r[1].attached = 0;
	assert_int_equal(func_governor_pick(r, 3, 10000, 5, pick), 0);
}

static void test_unprobeable(void **state)
{
	static const uint8_t lock_dec[] = { 0xf0, 0xff, 0x0f };       /* lock decl (%rdi) */
	static const uint8_t vmovd[] = { 0xc5, 0xf9, 0x6e, 0xc6 };    /* vmovd %esi,%xmm0 */
	static const uint8_t vpxor[] = { 0xc4, 0x41, 0x01, 0xef, 0xff };
	static const uint8_t evex[] = { 0x62, 0xe2, 0x7d, 0x28, 0x7a, 0xc6 };
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa };    /* endbr64 */
	static const uint8_t push[] = { 0x55 };                       /* push %rbp */
	static const uint8_t sub[] = { 0x48, 0x83, 0xec, 0x08 };      /* sub $8,%rsp */
	static const uint8_t cs_nop[] = { 0x2e, 0x0f, 0x1f, 0x84, 0x00 };
	static const uint8_t data16_lock[] = { 0x66, 0xf0, 0x0f, 0xb1, 0x17 };

#if defined(__x86_64__)
	assert_true(func_insn_unprobeable(lock_dec, sizeof(lock_dec)));
	assert_true(func_insn_unprobeable(vmovd, sizeof(vmovd)));
	assert_true(func_insn_unprobeable(vpxor, sizeof(vpxor)));
	assert_true(func_insn_unprobeable(cs_nop, sizeof(cs_nop)));
	assert_true(func_insn_unprobeable(data16_lock, sizeof(data16_lock)));
	assert_false(func_insn_unprobeable(evex, sizeof(evex)));
#endif
	assert_false(func_insn_unprobeable(endbr, sizeof(endbr)));
	assert_false(func_insn_unprobeable(push, sizeof(push)));
	assert_false(func_insn_unprobeable(sub, sizeof(sub)));
	assert_false(func_insn_unprobeable(push, 0));
}

static void test_attach_helpers(void **state)
{
	assert_int_equal(func_cookie(0, 7), 7);
	assert_int_equal(func_cookie(3, 7) >> 32, 3);
	assert_int_equal((uint32_t)func_cookie(3, 7), 7);
	assert_string_equal(func_attach_kind_name(FUNC_ATTACH_MULTI), "uprobe_multi");
	assert_string_equal(func_attach_kind_name(FUNC_ATTACH_PERF), "perf uprobes");
	/* the environment forces perf uprobes without asking the kernel */
	setenv("EBPROF_NO_UPROBE_MULTI", "1", 1);
	{
		const char *why = NULL;

		assert_int_equal(func_attach_choose(&why), FUNC_ATTACH_PERF);
		assert_non_null(strstr(why, "EBPROF_NO_UPROBE_MULTI"));
	}
	unsetenv("EBPROF_NO_UPROBE_MULTI");
}

/* One call seen by the links of generations old and old + 1 (newest
 * first), the switch to old + 1 happening after `flip_after` of the two
 * programs ran (0: before both, 1: between, 2: after both).  Returns how
 * many of the two hits counted. */
static int hit_pair(struct func_hit_mark *m, uint32_t old, int flip_after, uint32_t tid,
		    uint32_t fid, uint32_t kind, uint64_t sp)
{
	uint32_t cur = flip_after == 0 ? old + 1 : old;
	int n = func_accept(m, func_cookie(old + 1, fid), cur, tid, kind, sp);

	if (flip_after == 1)
		cur = old + 1;
	n += func_accept(m, func_cookie(old, fid), cur, tid, kind, sp);
	return n;
}

static void test_generation_switch(void **state)
{
	struct func_hit_mark m = { 0 };

	/* one generation: its hits count, others' do not */
	assert_true(func_accept(&m, func_cookie(0, 5), 0, 1, 0, 0x1000));
	assert_false(func_accept(&m, func_cookie(1, 5), 2, 1, 0, 0x1000));
	/* both links: exactly one hit counts wherever the switch falls */
	for (int flip = 0; flip <= 2; flip++) {
		memset(&m, 0, sizeof(m));
		assert_int_equal(hit_pair(&m, 3, flip, 1, 5, 0, 0x1000), 1);
		assert_int_equal(hit_pair(&m, 3, flip, 1, 5, 1, 0x1000), 1);
		/* the same call again right after (a loop, entries only) */
		assert_int_equal(hit_pair(&m, 3, flip, 1, 5, 0, 0x1000), 1);
		assert_int_equal(hit_pair(&m, 3, flip, 1, 5, 0, 0x1000), 1);
	}
	/* a mark left by another thread, function, kind or frame is not
	 * this hit's twin */
	memset(&m, 0, sizeof(m));
	assert_false(func_accept(&m, func_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_false(func_accept(&m, func_cookie(3, 5), 4, 2, 0, 0x1000));
	assert_false(func_accept(&m, func_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_false(func_accept(&m, func_cookie(3, 6), 4, 1, 0, 0x1000));
	assert_false(func_accept(&m, func_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_false(func_accept(&m, func_cookie(3, 5), 4, 1, 1, 0x1000));
	assert_false(func_accept(&m, func_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_false(func_accept(&m, func_cookie(3, 5), 4, 1, 0, 0x2000));
	/* a mark is used once, and any other hit in between clears it */
	assert_false(func_accept(&m, func_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_true(func_accept(&m, func_cookie(3, 5), 4, 1, 0, 0x1000));
	assert_false(func_accept(&m, func_cookie(3, 5), 4, 1, 0, 0x1000));
	assert_false(func_accept(&m, func_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_true(func_accept(&m, func_cookie(4, 7), 4, 2, 0, 0x3000));
	assert_false(func_accept(&m, func_cookie(3, 5), 4, 1, 0, 0x1000));
	/* links two generations old never count */
	assert_false(func_accept(&m, func_cookie(1, 5), 3, 1, 0, 0x1000));
}

static void test_close_fds(void **state)
{
	int fds[6] = { -1, -1, -1, -1, -1, -1 }, p[2];

	/* closes every open one (in threads), skips -1, and marks all -1 */
	assert_int_equal(pipe(p), 0);
	fds[1] = p[0];
	fds[4] = p[1];
	uprobe_multi_close(fds, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(fds[i], -1);
	assert_int_equal(fcntl(p[0], F_GETFD), -1);
	assert_int_equal(fcntl(p[1], F_GETFD), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_lib_matches),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_governor),
		cmocka_unit_test(test_unprobeable),
		cmocka_unit_test(test_attach_helpers),
		cmocka_unit_test(test_generation_switch),
		cmocka_unit_test(test_close_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
