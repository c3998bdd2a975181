/* A function the governor detaches while a call of it is running: hot(1)
 * calls hot(0) N times (the rate that gets hot detached), then returns
 * after the detach; the process then sleeps SLEEP_MS, alive, so a report
 * taken meanwhile still sees its threads' shadow stacks.
 * Usage: detachwork N SLEEP_MS [START] */
#include <stdlib.h>
#include <time.h>

#include "gate.h"

static volatile long sink;
static long n;

__attribute__((noinline)) void hot(int depth)
{
	if (depth == 0) {
		sink++;
		return;
	}
	for (long i = 0; i < n; i++)
		hot(depth - 1);
}

int main(int argc, char **argv)
{
	struct timespec ts;
	long ms;

	gate_init();
	if (argc < 3)
		return 2;
	n = atol(argv[1]);
	ms = atol(argv[2]);
	if (gate_wait(argc > 3 ? argv[3] : NULL))
		return 2;
	hot(1);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
	return 0;
}
