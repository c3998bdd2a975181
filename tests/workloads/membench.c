/* The mem benchmark's workload: N malloc + free pairs of 64 bytes (each
 * block freed at once), or with "keep" N blocks allocated and all freed
 * only at the end (N outstanding blocks for the tracker's memory).
 * Prints the time of that loop as fixedwork does, for scripts/bench.py:
 *
 *   membench N [keep]
 *   membench: work_ns=... cpu_ns=... calls=N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SZ 64

void *volatile sink;

static long long ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : -1;
	int keep = argc > 2 && strcmp(argv[2], "keep") == 0;
	void **kept = NULL;
	long long t0, c0;

	if (n < 0 || argc > 3 || (argc == 3 && !keep)) {
		fprintf(stderr, "usage: membench N [keep]\n");
		return 2;
	}
	if (keep && !(kept = calloc((size_t)n + 1, sizeof(*kept)))) {
		fprintf(stderr, "membench: out of memory\n");
		return 1;
	}
	t0 = ns(CLOCK_MONOTONIC);
	c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < n; i++) {
		sink = malloc(SZ);
		if (keep)
			kept[i] = sink;
		else
			free(sink);
	}
	printf("membench: work_ns=%lld cpu_ns=%lld calls=%ld\n", ns(CLOCK_MONOTONIC) - t0,
	       ns(CLOCK_PROCESS_CPUTIME_ID) - c0, n);
	for (long i = 0; keep && i < n; i++)
		free(kept[i]);
	free(kept);
	return 0;
}
