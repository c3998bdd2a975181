/* A function whose own time is known without probes: outer() runs 10,000
 * iterations of WORK_US microseconds of spinning (on the clock, so the
 * work takes the same wall time however the loop is slowed) each followed
 * by a call of the empty function empty().  outer_ref() runs the same loop
 * calling empty_ref(), a copy of empty() that is not traced, and times
 * itself: that is what outer's own time is without probes.  A run is
 * CHUNKS alternations of the two, CALLS / CHUNKS iterations each, so that
 * both see the same machine load however it changes (a spin preempted at
 * its end runs late, as much in one loop as in the other).  With
 * PROBECOST_TRUTH=FILE in the environment, "ref_ns outer_ns calls
 * outer_calls" goes to FILE at exit: outer_ref's mean time per run,
 * outer's mean time per run as it measured itself (probes included),
 * empty()'s calls and outer()'s.
 * Usage: probecost WORK_US [START] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gate.h"

#define CALLS 10000
#define RUNS 2
#define CHUNKS 50

static uint64_t work_ns;
static uint64_t ref_ns, outer_ns;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

__attribute__((noinline)) void empty(void)
{
	__asm__ __volatile__("" ::: "memory");
}

__attribute__((noinline)) void empty_ref(void)
{
	__asm__ __volatile__("" ::: "memory");
}

static inline void loop(void (*fn)(void))
{
	for (int i = 0; i < CALLS / CHUNKS; i++) {
		uint64_t end = now_ns() + work_ns;

		while (now_ns() < end)
			;
		fn();
	}
}

__attribute__((noinline)) void outer(void)
{
	uint64_t t0 = now_ns();

	loop(empty);
	outer_ns += now_ns() - t0;
}

__attribute__((noinline)) void outer_ref(void)
{
	uint64_t t0 = now_ns();

	loop(empty_ref);
	ref_ns += now_ns() - t0;
}

int main(int argc, char **argv)
{
	const char *truth = getenv("PROBECOST_TRUTH");

	gate_init();
	if (argc < 2 || atol(argv[1]) < 1) {
		fprintf(stderr, "usage: probecost WORK_US [START]\n");
		return 2;
	}
	work_ns = (uint64_t)atol(argv[1]) * 1000;
	if (gate_wait(argc > 2 ? argv[2] : NULL))
		return 2;
	for (int r = 0; r < RUNS * CHUNKS; r++) {
		outer_ref();
		outer();
	}
	if (truth) {
		FILE *f = fopen(truth, "w");

		if (!f)
			return 1;
		fprintf(f, "%llu %llu %d %d\n", (unsigned long long)(ref_ns / RUNS),
			(unsigned long long)(outer_ns / RUNS), CALLS * RUNS, RUNS * CHUNKS);
		if (fclose(f))
			return 1;
	}
	return 0;
}
