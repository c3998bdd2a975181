/* Probe layer helpers: pattern splitting, library names, close-match
 * suggestions, instructions uprobes refuse, governor choices, cookies,
 * attach choice and modes, the set's bookkeeping, the generation switch,
 * closing links. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probe/governor.h"
#include "probe/resolve.h"
#include "probe/uprobe_multi.h"
#include "probe/uprobe_set.h"
#include "uprobe_gen.h"

static void test_split(void **state)
{
	char buf[64];
	const char *lib, *glob;

	assert_int_equal(uprobe_split_pattern("libc:malloc", buf, sizeof(buf), &lib, &glob), 1);
	assert_string_equal(lib, "libc");
	assert_string_equal(glob, "malloc");
	assert_int_equal(uprobe_split_pattern("heavy*", buf, sizeof(buf), &lib, &glob), 0);
	assert_null(lib);
	assert_string_equal(glob, "heavy*");
	assert_int_equal(uprobe_split_pattern("ns::f", buf, sizeof(buf), &lib, &glob), 0);
	assert_int_equal(uprobe_split_pattern("/usr/lib/x.so:f*", buf, sizeof(buf), &lib, &glob),
			 1);
	assert_string_equal(lib, "/usr/lib/x.so");
	assert_string_equal(glob, "f*");
}

static void test_lib_matches(void **state)
{
	const char *libc = "/usr/lib/x86_64-linux-gnu/libc.so.6";

	assert_true(uprobe_lib_matches(libc, "libc"));
	assert_true(uprobe_lib_matches(libc, "c"));
	assert_true(uprobe_lib_matches(libc, "libc.so.6"));
	assert_true(uprobe_lib_matches(libc, libc));
	assert_false(uprobe_lib_matches("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "libc"));
	assert_false(uprobe_lib_matches(libc, "libm"));
	assert_true(uprobe_lib_matches("/lib/libfoo-2.1.so", "libfoo"));
	assert_false(uprobe_lib_matches(libc, "/lib/libc.so.6"));
	assert_false(uprobe_lib_matches(libc, ""));
	/* A soname names its versioned file; a shorter version does not
	 * match a longer one's digits. */
	assert_true(uprobe_lib_matches("/usr/lib/libstdc++.so.6.0.30", "libstdc++.so.6"));
	assert_false(uprobe_lib_matches("/usr/lib/libstdc++.so.60", "libstdc++.so.6"));
}

static void test_suggest(void **state)
{
	const char *names[] = { "main", "heavy", "medium", "light", "_start", "heavy_helper" };
	char buf[128];

	assert_int_equal(uprobe_edit_distance("hevy", "heavy"), 1);
	assert_int_equal(uprobe_edit_distance("", "abc"), 3);
	assert_int_equal(uprobe_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(uprobe_suggest("hevy", names, 6, buf, sizeof(buf), 3), 1);
	assert_string_equal(buf, "heavy");
	/* substring matches, exact-length first */
	assert_int_equal(uprobe_suggest("HEAVY*", names, 6, buf, sizeof(buf), 3), 2);
	assert_string_equal(buf, "heavy, heavy_helper");
	assert_int_equal(uprobe_suggest("zzzzzzzz", names, 6, buf, sizeof(buf), 3), 0);
	assert_string_equal(buf, "");
}

static void test_governor(void **state)
{
	struct uprobe_rate r[3] = {
		{ .hits_per_s = 1000, .attached = 1 },	 /* 1 % at 10 us */
		{ .hits_per_s = 100000, .attached = 1 }, /* 100 % */
		{ .hits_per_s = 4000, .attached = 1 },	 /* 4 % */
	};
	size_t pick[3];

	assert_true(uprobe_overhead_pct(r, 3, 10000) > 104.9 &&
		    uprobe_overhead_pct(r, 3, 10000) < 105.1);
	/* budget 5 %: only the hottest goes */
	assert_int_equal(uprobe_governor_pick(r, 3, 10000, 5, pick), 1);
	assert_int_equal(pick[0], 1);
	/* budget 2 %: then the next hottest */
	assert_int_equal(uprobe_governor_pick(r, 3, 10000, 2, pick), 2);
	assert_int_equal(pick[1], 2);
	/* already detached probes cost nothing */
	r[1].attached = 0;
	assert_int_equal(uprobe_governor_pick(r, 3, 10000, 5, pick), 0);
}

static void test_unprobeable(void **state)
{
	static const uint8_t lock_dec[] = { 0xf0, 0xff, 0x0f };	   /* lock decl (%rdi) */
	static const uint8_t vmovd[] = { 0xc5, 0xf9, 0x6e, 0xc6 }; /* vmovd %esi,%xmm0 */
	static const uint8_t vpxor[] = { 0xc4, 0x41, 0x01, 0xef, 0xff };
	static const uint8_t evex[] = { 0x62, 0xe2, 0x7d, 0x28, 0x7a, 0xc6 };
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa }; /* endbr64 */
	static const uint8_t push[] = { 0x55 };			   /* push %rbp */
	static const uint8_t sub[] = { 0x48, 0x83, 0xec, 0x08 };   /* sub $8,%rsp */
	static const uint8_t cs_nop[] = { 0x2e, 0x0f, 0x1f, 0x84, 0x00 };
	static const uint8_t data16_lock[] = { 0x66, 0xf0, 0x0f, 0xb1, 0x17 };

#if defined(__x86_64__)
	assert_true(uprobe_insn_unprobeable(lock_dec, sizeof(lock_dec)));
	assert_true(uprobe_insn_unprobeable(vmovd, sizeof(vmovd)));
	assert_true(uprobe_insn_unprobeable(vpxor, sizeof(vpxor)));
	assert_true(uprobe_insn_unprobeable(cs_nop, sizeof(cs_nop)));
	assert_true(uprobe_insn_unprobeable(data16_lock, sizeof(data16_lock)));
	assert_false(uprobe_insn_unprobeable(evex, sizeof(evex)));
#endif
	assert_false(uprobe_insn_unprobeable(endbr, sizeof(endbr)));
	assert_false(uprobe_insn_unprobeable(push, sizeof(push)));
	assert_false(uprobe_insn_unprobeable(sub, sizeof(sub)));
	assert_false(uprobe_insn_unprobeable(push, 0));
}

static void test_attach_helpers(void **state)
{
	assert_int_equal(uprobe_cookie(0, 7), 7);
	assert_int_equal(uprobe_cookie(3, 7) >> 32, 3);
	assert_int_equal((uint32_t)uprobe_cookie(3, 7), 7);
	assert_string_equal(uprobe_attach_kind_name(UPROBE_ATTACH_MULTI), "uprobe_multi");
	assert_string_equal(uprobe_attach_kind_name(UPROBE_ATTACH_PERF), "perf uprobes");
	/* the environment forces perf uprobes without asking the kernel */
	setenv("EBPROF_NO_UPROBE_MULTI", "1", 1);
	{
		const char *why = NULL;

		assert_int_equal(uprobe_attach_choose(UPROBE_SET_AUTO, &why), UPROBE_ATTACH_PERF);
		assert_non_null(strstr(why, "EBPROF_NO_UPROBE_MULTI"));
	}
	unsetenv("EBPROF_NO_UPROBE_MULTI");
}

/* One call seen by the links of generations old and old + 1 (newest
 * first), the switch to old + 1 happening after `flip_after` of the two
 * programs ran (0: before both, 1: between, 2: after both).  Returns how
 * many of the two hits counted. */
static int hit_pair(struct uprobe_hit_mark *m, uint32_t old, int flip_after, uint32_t tid,
		    uint32_t fid, uint32_t kind, uint64_t sp)
{
	uint32_t cur = flip_after == 0 ? old + 1 : old;
	int n = uprobe_gen_accept(m, uprobe_cookie(old + 1, fid), cur, tid, kind, sp);

	if (flip_after == 1)
		cur = old + 1;
	n += uprobe_gen_accept(m, uprobe_cookie(old, fid), cur, tid, kind, sp);
	return n;
}

static void test_generation_switch(void **state)
{
	struct uprobe_hit_mark m = { 0 };

	/* one generation: its hits count, others' do not */
	assert_true(uprobe_gen_accept(&m, uprobe_cookie(0, 5), 0, 1, 0, 0x1000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(1, 5), 2, 1, 0, 0x1000));
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
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(3, 5), 4, 2, 0, 0x1000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(3, 6), 4, 1, 0, 0x1000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(3, 5), 4, 1, 1, 0x1000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(3, 5), 4, 1, 0, 0x2000));
	/* a mark is used once, and any other hit in between clears it */
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_true(uprobe_gen_accept(&m, uprobe_cookie(3, 5), 4, 1, 0, 0x1000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(3, 5), 4, 1, 0, 0x1000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(4, 5), 3, 1, 0, 0x1000));
	assert_true(uprobe_gen_accept(&m, uprobe_cookie(4, 7), 4, 2, 0, 0x3000));
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(3, 5), 4, 1, 0, 0x1000));
	/* links two generations old never count */
	assert_false(uprobe_gen_accept(&m, uprobe_cookie(1, 5), 3, 1, 0, 0x1000));
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

static void test_attach_modes(void **state)
{
	const char *why = NULL;

	/* forcing perf uprobes never asks the kernel */
	assert_int_equal(uprobe_attach_choose(UPROBE_SET_PERF, &why), UPROBE_ATTACH_PERF);
	assert_non_null(why);
	assert_true(why[0] != 0);
	/* the environment override is for the automatic choice only */
	setenv("EBPROF_NO_UPROBE_MULTI", "0", 1);
	why = NULL;
	uprobe_attach_choose(UPROBE_SET_AUTO, &why);
	assert_non_null(why);
	assert_null(strstr(why, "EBPROF_NO_UPROBE_MULTI"));
	unsetenv("EBPROF_NO_UPROBE_MULTI");
	assert_int_equal(uprobe_attach_choose(UPROBE_SET_PERF, NULL), UPROBE_ATTACH_PERF);
}

static void test_set_lifecycle(void **state)
{
	struct uprobe_target t[2] = {
		{ .name = "heavy", .module = "w", .path = "/bin/w", .offset = 0x1000 },
		{ .name = "light", .module = "w", .path = "/bin/w", .offset = 0x2000 },
	};
	struct uprobe_set_opts o = { .mode = UPROBE_SET_PERF, .pid = 1 };
	struct uprobe_set *s = uprobe_set__new(&o);

	/* the set keeps the order of adding, whatever the cookies */
	assert_non_null(s);
	assert_int_equal(uprobe_set__kind(s), UPROBE_ATTACH_PERF);
	assert_int_equal(uprobe_set__cnt(s), 0);
	assert_int_equal(uprobe_set__add(s, &t[1], 7), 0);
	assert_int_equal(uprobe_set__add(s, &t[0], 3), 1);
	assert_int_equal(uprobe_set__cnt(s), 2);
	assert_ptr_equal(uprobe_set__target(s, 0), &t[1]);
	assert_ptr_equal(uprobe_set__target(s, 1), &t[0]);
	assert_null(uprobe_set__target(s, 2));
	assert_null(uprobe_set__prog(s, 1));
	/* freed without attaching */
	uprobe_set__free(s);
	uprobe_set__free(NULL);
}

static void test_governor_unstarted(void **state)
{
	/* a collector whose attach failed still reports and ticks */
	uprobe_governor__tick(NULL);
	assert_true(uprobe_governor__peak_pct(NULL) == 0);
	assert_int_equal(uprobe_governor__ndetached(NULL), 0);
	uprobe_governor__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_lib_matches),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_governor),
		cmocka_unit_test(test_unprobeable),
		cmocka_unit_test(test_attach_helpers),
		cmocka_unit_test(test_attach_modes),
		cmocka_unit_test(test_set_lifecycle),
		cmocka_unit_test(test_governor_unstarted),
		cmocka_unit_test(test_generation_switch),
		cmocka_unit_test(test_close_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
