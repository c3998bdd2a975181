/* The library of the shortlib workload (libshortlib.so, a DT_NEEDED of
 * it, symbols kept): the hot function it spins in. */
#include <time.h>

static volatile unsigned long sink;

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Spins until the thread has used ms of CPU time. */
__attribute__((noinline)) void shortlib_hot(double ms)
{
	double end = cpu_ms() + ms;

	do {
		for (unsigned long i = 0; i < 10000; i++)
			sink += i;
	} while (cpu_ms() < end);
}
