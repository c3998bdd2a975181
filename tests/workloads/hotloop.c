/* A tight loop calling a tiny function many times (the overhead governor's
 * test), plus a cold function called once per outer round.
 * Usage: hotloop [ITERATIONS] [START]; START is the start gate (gate.h). */
#include <stdlib.h>
#include <unistd.h>

#include "gate.h"

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

	gate_init();
	if (gate_wait(argc > 2 ? argv[2] : NULL))
		return 2;
	for (long i = 0; i < n; i++) {
		tiny(i);
		if (i % 100000 == 0)
			cold(i);
	}
	return 0;
}
