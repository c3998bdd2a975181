/* A tight loop calling a tiny function many times (the overhead governor's
 * test), plus a cold function called once per outer round.
 * Usage: hotloop [ITERATIONS] [START_DELAY_MS] */
#include <stdlib.h>
#include <unistd.h>

static volatile long sink;

__attribute__((noinline)) void tiny(long i)
{
	sink += i;
}

__attribute__((noinline)) void cold(long i)
{
	sink -= i;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000000;
	long delay_ms = argc > 2 ? atol(argv[2]) : 0;

	if (delay_ms > 0)
		usleep(delay_ms * 1000);
	for (long i = 0; i < n; i++) {
		tiny(i);
		if (i % 100000 == 0)
			cold(i);
	}
	return 0;
}
