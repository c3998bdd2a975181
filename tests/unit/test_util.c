/* Unit tests of the shared helpers: work split over threads, note lists,
 * BPF map walks (a real map: the tests run as root, as ebprof does). */
#include <pthread.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "util/bpfmap.h"
#include "util/util.h"

static int cells[1000];
static pthread_t caller;
static size_t nslices, ninline;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Marks each element of its slice once; counts slices, and those run on
 * the caller's own thread. */
static void mark(void *first, size_t n)
{
	int *c = first;

	for (size_t k = 0; k < n; k++)
		c[k]++;
	pthread_mutex_lock(&lock);
	nslices++;
	ninline += pthread_equal(caller, pthread_self()) != 0;
	pthread_mutex_unlock(&lock);
}

static void test_slices(void **state)
{
	/* { elements, threads asked, slices expected } */
	const size_t cases[][3] = {
		{ 1000, 1, 1 }, { 1000, 7, 7 }, { 1000, 64, 64 }, { 1000, 500, UTIL_MAX_SLICES },
		{ 3, 16, 3 },	{ 1, 16, 1 },	{ 0, 16, 0 },
	};

	(void)state;
	caller = pthread_self();
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t n = cases[c][0];

		memset(cells, 0, sizeof(cells));
		nslices = ninline = 0;
		run_in_slices(cells, n, sizeof(cells[0]), cases[c][1], mark);
		for (size_t i = 0; i < 1000; i++)
			assert_int_equal(cells[i], i < n ? 1 : 0); /* each once, none beyond */
		assert_int_equal(nslices, cases[c][2]);
		/* one slice runs inline; several run on threads of their own */
		assert_int_equal(ninline, cases[c][2] == 1 ? 1 : 0);
	}
}

static void visit(size_t i, void *arg)
{
	__atomic_fetch_add(&((int *)arg)[i], 1, __ATOMIC_RELAXED);
}

/* Every item exactly once, whatever the thread count (1: inline). */
static void test_parallel(void **state)
{
	static const size_t ns[] = { 0, 1, 3, 100 }, threads[] = { 1, 2, 8, 1000 };
	int seen[100];

	(void)state;
	for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++)
		for (size_t b = 0; b < sizeof(threads) / sizeof(threads[0]); b++) {
			memset(seen, 0, sizeof(seen));
			run_in_parallel(ns[a], threads[b], visit, seen);
			for (size_t i = 0; i < 100; i++)
				assert_int_equal(seen[i], i < ns[a] ? 1 : 0);
		}
}

static void test_strlist(void **state)
{
	struct strlist l = { 0 };
	char big[3000];

	(void)state;
	assert_int_equal(strlist_addf(&l, "detached %s at %.1f s", "hot", 1.5), 0);
	assert_int_equal(strlist_addf(&l, "plain"), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(strlist_addf(&l, "%s", big), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "detached hot at 1.5 s");
	assert_true(strlist_has(&l, "plain"));
	assert_false(strlist_has(&l, "plai"));
	assert_int_equal(strlen(l.v[2]), sizeof(big) - 1); /* not truncated */
	strlist_free(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
	assert_false(strlist_has(&l, "plain"));
}

static void test_map_walk(void **state)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "test_walk", sizeof(uint32_t), sizeof(uint64_t),
				256, NULL);
	int seen[200] = { 0 }, started = 0;
	uint32_t key;
	uint64_t val;
	size_t n = 0;

	(void)state;
	if (fd < 0)
		fail_msg("cannot create a BPF map (root and BPF needed): %s", strerror(errno));
	assert_int_equal(map_next_entry(fd, &key, sizeof(key), &started, &val), 0); /* empty */
	for (uint32_t k = 0; k < 200; k++) {
		uint64_t v = (uint64_t)k * 7;
		assert_int_equal(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
	}
	started = 0;
	while (map_next_entry(fd, &key, sizeof(key), &started, &val)) {
		assert_true(key < 200);
		assert_int_equal(val, (uint64_t)key * 7);
		seen[key]++;
		n++;
	}
	assert_int_equal(n, 200);
	for (size_t k = 0; k < 200; k++)
		assert_int_equal(seen[k], 1);
	/* a key larger than the walker's buffer: refused, not overrun */
	started = 0;
	assert_int_equal(map_next_entry(fd, &key, UTIL_MAP_KEY_MAX + 1, &started, &val), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_strlist),
		cmocka_unit_test(test_map_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
