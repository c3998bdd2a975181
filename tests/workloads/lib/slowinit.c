/* The library of the slowinit workload: its constructor, which the
 * dynamic loader runs before the executable's entry point, sleeps
 * SLOWINIT_MS milliseconds (default 6000). */
#include <stdlib.h>
#include <time.h>

__attribute__((constructor)) static void slow_init(void)
{
	const char *ms = getenv("SLOWINIT_MS");
	long v = ms ? atol(ms) : 6000;
	struct timespec ts = { .tv_sec = v / 1000, .tv_nsec = (v % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

int slowinit_ready(void)
{
	return 1;
}
