/* C port of the classic cProfile example.  main() calls heavy() twice;
 * heavy() loops 100 times calling light() (sleeps 1 ms) and medium() twice
 * (sleeps 10 ms each), then sleeps 2 s itself.  argv[1] divides every sleep
 * so tests run short.  Exact ground truth: ncalls main 1, heavy 2,
 * medium 400, light 200; heavy's own time = 2 * 2 s / scale; medium's
 * total = 400 * 10 ms / scale.  argv[2], when given, is the start gate
 * (gate.h): a delay in ms, or "sig" to wait for SIGUSR1.
 * Usage: cprofile [SCALE [START]] */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

static long scale = 1;

static void sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

__attribute__((noinline)) void light(void)
{
	sleep_ns(1000000L / scale);
}

__attribute__((noinline)) void medium(void)
{
	sleep_ns(10000000L / scale);
}

__attribute__((noinline)) void heavy(void)
{
	for (int i = 0; i < 100; i++) {
		light();
		medium();
		medium();
	}
	sleep_ns(2000000000L / scale);
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
	return 0;
}
