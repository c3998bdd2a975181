/* cpusplit: a CPU phase whose split is known, then a blocking phase.
 *
 *   cpusplit [CPU_MS [BLOCK_MS [START]]]   (defaults 2000 1000 0)
 *
 * The CPU phase runs spin_a for 60 %, spin_b for 30 % and spin_c for 10 %
 * of CPU_MS of this thread's CPU time; then block_wait blocks in nanosleep
 * for BLOCK_MS.  START is the start gate (gate.h), waited on in wait_start:
 * a delay in ms or "sig", so a profiler can attach with -p before the
 * measured work begins. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gate.h"

static volatile unsigned long sink;

static double thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Pure computation; the clock is read only every 200k iterations so
 * samples land in the spinning function itself. */
static __attribute__((noinline)) void spin_for(double ms)
{
	double end = thread_cpu_ms() + ms;
	unsigned long x = sink;

	do {
		for (int i = 0; i < 200000; i++)
			x = x * 6364136223846793005ul + 1442695040888963407ul;
		sink = x;
	} while (thread_cpu_ms() < end);
}

__attribute__((noinline)) void spin_a(double ms)
{
	spin_for(ms);
	sink++;
}
__attribute__((noinline)) void spin_b(double ms)
{
	spin_for(ms);
	sink++;
}
__attribute__((noinline)) void spin_c(double ms)
{
	spin_for(ms);
	sink++;
}

/* nanosleep is called from a frame-pointer frame of ours, so the caller
 * of that frame (block_wait) is on the user stack seen at switch-out. */
static __attribute__((noinline)) void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
	sink++;
}

__attribute__((noinline)) void block_wait(long ms)
{
	sleep_ms(ms);
	sink++;
}
__attribute__((noinline)) int wait_start(const char *start)
{
	int err = gate_wait(start);

	sink++;
	return err;
}

int main(int argc, char **argv)
{
	double cpu_ms = argc > 1 ? atof(argv[1]) : 2000;
	long block_ms = argc > 2 ? atol(argv[2]) : 1000;

	gate_init();
	if (cpu_ms < 0 || block_ms < 0 || wait_start(argc > 3 ? argv[3] : NULL)) {
		fprintf(stderr, "usage: cpusplit [CPU_MS [BLOCK_MS [START]]]\n");
		return 2;
	}
	spin_a(cpu_ms * 0.6);
	spin_b(cpu_ms * 0.3);
	spin_c(cpu_ms * 0.1);
	block_wait(block_ms);
	return 0;
}
