/* A malloc-heavy loop for the mem governor: N malloc + free pairs, each
 * block freed before the next allocation, each pair followed by WORK_NS
 * of spinning on the clock (0: none).  No other allocation is made after
 * START (tests/workloads/gate.h), so N is every allocation call the run
 * sees.
 *
 *   memloop START N [WORK_NS] */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "gate.h"

#define LOOP_SZ 64

void *volatile sink;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static void loop_site(long n, uint64_t work_ns)
{
	for (long i = 0; i < n; i++) {
		uint64_t t0;

		sink = malloc(LOOP_SZ);
		free(sink);
		for (t0 = mono_ns(); work_ns && mono_ns() - t0 < work_ns;)
			;
	}
}

int main(int argc, char **argv)
{
	gate_init();
	if (argc < 3 || argc > 4 || gate_wait(argv[1]))
		return 2;
	loop_site(atol(argv[2]), argc == 4 ? strtoull(argv[3], NULL, 10) : 0);
	return 0;
}
