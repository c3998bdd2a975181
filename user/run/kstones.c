/* The reference loop of --calibrate and its timing. */
#include "run/kstones.h"

#include <stdint.h>
#include <time.h>

#define ROUNDS_PER_KSTONE 1000
#define BATCH_KSTONES 200 /* one batch: about 10-50 ms on current machines */
#define BATCHES 5

static volatile uint64_t sink;

/* One kstone of work: 1000 rounds of xorshift mixing and a walk through
 * a small table whose next index depends on the last value. */
static uint64_t kstone(uint64_t x, uint32_t *table)
{
	for (int i = 0; i < ROUNDS_PER_KSTONE; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t k = (uint32_t)(x >> 32) & 255;

		table[k] = table[k] * 2654435761u + (uint32_t)x;
		x += table[(table[k] >> 24) & 255];
	}
	return x;
}

static double thread_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return -1;
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double kstones_calibrate(void)
{
	uint32_t table[256];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	double best = 0;

	for (int i = 0; i < 256; i++)
		table[i] = (uint32_t)i * 40503u;
	for (int b = 0; b < BATCHES; b++) {
		double t0 = thread_ns(), t1;

		for (int k = 0; k < BATCH_KSTONES; k++)
			x = kstone(x, table);
		t1 = thread_ns();
		if (t0 < 0 || t1 <= t0)
			return 0;
		if (!best || t1 - t0 < best)
			best = t1 - t0;
	}
	sink = x;
	return best / BATCH_KSTONES;
}
