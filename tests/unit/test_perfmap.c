/* Perf map (JIT symbols) parsing and lookup: real lines as node and Python
 * write them, malformed and hostile lines, lookups at entry boundaries,
 * a file that grows and one that is rewritten. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "symbols/perfmap.h"

static struct perfmap *parse_str(const char *text)
{
	struct perfmap *pm = perfmap_new();

	assert_non_null(pm);
	assert_int_equal(perfmap_add_text(pm, text, strlen(text), 1), (ssize_t)strlen(text));
	return pm;
}

static void assert_sym(const struct perfmap *pm, uint64_t addr, const char *name, uint64_t off)
{
	uint64_t got = ~0ull;
	const char *n = perfmap_lookup(pm, addr, &got);

	assert_non_null(n);
	assert_string_equal(n, name);
	assert_int_equal(got, off);
}

static void test_good_lines(void **state)
{
	struct perfmap *pm = parse_str("3ef414c0 398 RegExp:[{(]\n"
				       "7f0a1b2c0040 2c LazyCompile:~hotSpin /x/hot.js:3\n"
				       "0x7f0a1b2d0000 0x100 py::work:/x/w.py\n"
				       "7f0a1b2e0000\t10\tname with  spaces\r\n");

	assert_int_equal(perfmap_count(pm), 4);
	assert_int_equal(perfmap_bad(pm), 0);
	/* Boundaries: first byte, last byte, one past. */
	assert_sym(pm, 0x3ef414c0, "RegExp:[{(]", 0);
	assert_sym(pm, 0x3ef414c0 + 0x397, "RegExp:[{(]", 0x397);
	assert_null(perfmap_lookup(pm, 0x3ef414c0 + 0x398, NULL));
	assert_null(perfmap_lookup(pm, 0x3ef414bf, NULL));
	assert_sym(pm, 0x7f0a1b2c0040 + 0x2b, "LazyCompile:~hotSpin /x/hot.js:3", 0x2b);
	assert_sym(pm, 0x7f0a1b2d0080, "py::work:/x/w.py", 0x80);
	assert_sym(pm, 0x7f0a1b2e000f, "name with  spaces", 0xf);
	assert_null(perfmap_lookup(pm, 0, NULL));
	assert_null(perfmap_lookup(pm, UINT64_MAX, NULL));
	perfmap_free(pm);
}

static void test_malformed(void **state)
{
	struct perfmap *pm = parse_str("zz 10 bad_start\n"
				       "1000 bad_size\n"
				       "1000 10\n"
				       "1000 10 \n"
				       "1000 0 zero_size\n"
				       "1000x 10 junk_after_start\n"
				       "\n"
				       "2000 10 ok\n");

	assert_int_equal(perfmap_count(pm), 1);
	assert_int_equal(perfmap_bad(pm), 6);
	assert_sym(pm, 0x2005, "ok", 5);
	perfmap_free(pm);
}

static void test_hostile(void **state)
{
	char *big = malloc(PERFMAP_LINE_MAX + 64);
	struct perfmap *pm;
	size_t n;

	/* Overflowing numbers and an entry that would wrap past 2^64. */
	pm = parse_str("1ffffffffffffffff 10 too_many_digits\n"
		       "ffffffffffffff00 1000 wraps\n"
		       "ffffffffffffff00 ff last\n"
		       "10 ffffffffffffffef huge_but_fits\n");
	assert_int_equal(perfmap_bad(pm), 2);
	assert_sym(pm, 0xfffffffffffffffeull, "last", 0xfe);
	assert_null(perfmap_lookup(pm, UINT64_MAX, NULL));
	assert_sym(pm, 0x20, "huge_but_fits", 0x10);
	perfmap_free(pm);

	/* A line beyond the line bound. */
	assert_non_null(big);
	n = (size_t)snprintf(big, 32, "3000 10 ");
	memset(big + n, 'a', PERFMAP_LINE_MAX);
	big[n + PERFMAP_LINE_MAX] = '\0';
	pm = parse_str(big);
	assert_int_equal(perfmap_count(pm), 0);
	assert_int_equal(perfmap_bad(pm), 1);
	perfmap_free(pm);
	free(big);

	/* An embedded NUL in the name is malformed, not truncating. */
	pm = perfmap_new();
	assert_int_equal(perfmap_add_text(pm, "4000 10 a\0b\n", 12, 1), 12);
	assert_int_equal(perfmap_bad(pm), 1);
	perfmap_free(pm);
}

static void test_reuse_and_nesting(void **state)
{
	/* A JIT that reuses an address: the later entry wins; a small entry
	 * inside a larger one names its range only. */
	struct perfmap *pm = parse_str("5000 100 old\n"
				       "5000 100 new\n"
				       "6000 1000 outer\n"
				       "6100 10 inner\n");

	assert_sym(pm, 0x5000, "new", 0);
	assert_sym(pm, 0x6105, "inner", 5);
	assert_sym(pm, 0x6110, "outer", 0x110);
	assert_sym(pm, 0x6fff, "outer", 0xfff);
	perfmap_free(pm);
}

static void test_partial_and_grow(void **state)
{
	char path[] = "/tmp/test_perfmapXXXXXX";
	int fd = mkstemp(path);
	struct perfmap *pm = perfmap_new();

	assert_true(fd >= 0);
	unlink(path);
	/* Not final: an unterminated last line waits for the rest. */
	assert_int_equal(perfmap_add_text(pm, "7000 10 a\n7100 1", 17, 0), 10);
	assert_int_equal(perfmap_count(pm), 1);
	perfmap_free(pm);

	pm = perfmap_new();
	assert_int_equal(write(fd, "8000 10 first\n8100 10 sec", 25), 25);
	assert_int_equal(perfmap_update_fd(pm, fd), 0);
	assert_int_equal(perfmap_count(pm), 1);
	assert_null(perfmap_lookup(pm, 0x8100, NULL));
	/* The JIT appends: the rest of the line, then one more. */
	assert_int_equal(write(fd, "ond\n8200 10 third\n", 18), 18);
	assert_int_equal(perfmap_update_fd(pm, fd), 0);
	assert_int_equal(perfmap_count(pm), 3);
	assert_sym(pm, 0x8100, "second", 0);
	assert_sym(pm, 0x8209, "third", 9);
	/* Nothing new: nothing changes. */
	assert_int_equal(perfmap_update_fd(pm, fd), 0);
	assert_int_equal(perfmap_count(pm), 3);
	/* Rewritten shorter: read again from the start. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, "9000 10 anew\n", 13, 0), 13);
	assert_int_equal(perfmap_update_fd(pm, fd), 0);
	assert_int_equal(perfmap_count(pm), 1);
	assert_sym(pm, 0x9000, "anew", 0);
	assert_null(perfmap_lookup(pm, 0x8000, NULL));
	assert_false(perfmap_truncated(pm));
	perfmap_free(pm);
	close(fd);
}

static void test_size_bound(void **state)
{
	char path[] = "/tmp/test_perfmapXXXXXX";
	int fd = mkstemp(path);
	struct perfmap *pm = perfmap_new();

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "a000 10 kept\n", 13), 13);
	/* A sparse file far beyond the bound: read up to it, no further. */
	assert_int_equal(ftruncate(fd, (off_t)PERFMAP_MAX_BYTES * 4), 0);
	assert_int_equal(perfmap_update_fd(pm, fd), 0);
	assert_true(perfmap_truncated(pm));
	assert_sym(pm, 0xa000, "kept", 0);
	assert_int_equal(perfmap_update_fd(pm, fd), 0);
	perfmap_free(pm);
	close(fd);
	assert_int_equal(perfmap_update_fd(NULL, 0), -EINVAL);
	assert_null(perfmap_lookup(NULL, 0, NULL));
}

static void test_path_self(void **state)
{
	char buf[64], want[64];

	assert_int_equal(perfmap_path(getpid(), buf, sizeof(buf)), 0);
	/* Unit tests run in the root pid namespace or their own: either way
	 * the last NSpid is the pid this process sees for itself. */
	snprintf(want, sizeof(want), "/tmp/perf-%d.map", (int)getpid());
	assert_string_equal(buf, want);
	assert_int_equal(perfmap_path(getpid(), buf, 8), -ENAMETOOLONG);
	assert_int_equal(perfmap_path(0x7ffffff0, buf, sizeof(buf)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_lines),	 cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_hostile),		 cmocka_unit_test(test_reuse_and_nesting),
		cmocka_unit_test(test_partial_and_grow), cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_path_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
