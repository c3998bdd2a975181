/* C port of the classic cProfile example.  main() calls heavy() twice;
 * heavy() loops 100 times calling light() (sleeps 1 ms) and medium() twice
 * (sleeps 10 ms each), then sleeps 2 s itself.  argv[1] divides every sleep
 * so tests run short.  Exact ground truth: ncalls main 1, heavy 2,
 * medium 400, light 200; heavy's own time = 2 * 2 s / scale; medium's
 * total = 400 * 10 ms / scale.  argv[2], when given, is the start gate
 * (gate.h): a delay in ms, or "sig" to wait for SIGUSR1.
 * The sleeps take what the machine gives them, longer on a loaded one: with
 * CPROFILE_TRUTH=FILE in the environment, the time each function actually
 * took, as the workload itself measured it, goes to FILE at exit as
 * "medium_ns light_ns heavy_ns" (inclusive, all calls).
 * Usage: cprofile [SCALE [START]] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

static long scale = 1;
static uint64_t medium_ns, light_ns, heavy_ns;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

__attribute__((noinline)) void light(void)
{
	uint64_t t0 = now_ns();

	sleep_ns(1000000L / scale);
	light_ns += now_ns() - t0;
}

__attribute__((noinline)) void medium(void)
{
	uint64_t t0 = now_ns();

	sleep_ns(10000000L / scale);
	medium_ns += now_ns() - t0;
}

__attribute__((noinline)) void heavy(void)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < 100; i++) {
		light();
		medium();
		medium();
	}
	sleep_ns(2000000000L / scale);
	heavy_ns += now_ns() - t0;
}

int main(int argc, char **argv)
{
	gate_init();
	if (argc > 1)
		scale = atol(argv[1]);
	if (scale < 1)
		scale = 1;
	if (gate_wait(argc > 2 ? argv[2] : NULL))
		return 2;
	heavy();
	heavy();
	if (getenv("CPROFILE_TRUTH")) {
		FILE *f = fopen(getenv("CPROFILE_TRUTH"), "w");

		if (!f)
			return 1;
		fprintf(f, "%llu %llu %llu\n", (unsigned long long)medium_ns,
			(unsigned long long)light_ns, (unsigned long long)heavy_ns);
		if (fclose(f))
			return 1;
	}
	return 0;
}
