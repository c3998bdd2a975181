/* Allocation sites with known counts and bytes, for the mem report.
 *
 *   memsites START
 *
 * Every site is its own function (the caller of the allocator in its
 * stacks); every pointer escapes into sink[] so the compiler keeps each
 * call.  After START (tests/workloads/gate.h), in this order:
 *
 *   leak_site        LEAK_N x malloc(LEAK_SZ), never freed
 *   temp_site        TEMP_N x malloc(TEMP_SZ) + free: all temporaries
 *   grow_site        GROW_ROUNDS rounds keeping GROW_PER x malloc(GROW_SZ),
 *                    all freed at the end, oldest first (no temporaries)
 *   realloc_site     realloc(NULL, 16), then realloc to 32, 64, 128, 256,
 *                    then free: 5 allocations, 496 bytes, 1 temporary
 *   calloc_site      CALLOC_N x calloc(CALLOC_NMEMB, CALLOC_SZ), freed
 *                    oldest first
 *   memalign_site    MEMALIGN_N x posix_memalign(64, MEMALIGN_SZ), freed
 *                    oldest first
 *   overflow_site    calloc(SIZE_MAX / 2, 4): fails
 *   refail_site      malloc(64), realloc of it to SIZE_MAX / 2 (fails, the
 *                    block stays), free
 *   rezero_site      malloc(32), realloc(p, 0) (glibc frees; others may
 *                    return a block), free of the result
 *   big_site         malloc(BIG_SZ) (mmap-backed in glibc) + free
 *
 * Blocks allocated by pre_site before START are freed after it: with -p
 * they are frees of blocks from before the attach.
 *
 *   memsites START ROUND_MS
 *
 * for the growth report: ROUND_MS milliseconds pass before each grow
 * round, and each round runs temp_site too (allocate and release); the
 * grow site's blocks are kept to the end (a growing site; the leak site
 * leaks once, before the rounds, so it is not growing). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gate.h"

#define LEAK_N 50
#define LEAK_SZ 96
#define TEMP_N 200
#define TEMP_SZ 40
#define GROW_ROUNDS 5
#define GROW_PER 10
#define GROW_SZ 256
#define CALLOC_N 20
#define CALLOC_NMEMB 8
#define CALLOC_SZ 24
#define MEMALIGN_N 10
#define MEMALIGN_SZ 200
#define BIG_SZ (1 << 20)
#define PRE_N 5

void *volatile sink[LEAK_N + GROW_ROUNDS * GROW_PER + CALLOC_N + MEMALIGN_N + PRE_N + 8];
static volatile size_t huge = SIZE_MAX / 2;

#define NOINLINE __attribute__((noinline))

NOINLINE static void leak_site(void **out)
{
	for (int i = 0; i < LEAK_N; i++) {
		out[i] = malloc(LEAK_SZ);
		memset(out[i], 1, LEAK_SZ);
	}
}

NOINLINE static void temp_site(void)
{
	for (int i = 0; i < TEMP_N; i++) {
		char *p = malloc(TEMP_SZ);

		sink[0] = p;
		p[0] = (char)i;
		free(sink[0]);
	}
}

NOINLINE static void grow_site(void **out, int round)
{
	for (int i = 0; i < GROW_PER; i++)
		out[round * GROW_PER + i] = malloc(GROW_SZ);
}

NOINLINE static void realloc_site(void)
{
	char *p = realloc(NULL, 16);

	for (size_t n = 32; n <= 256; n *= 2)
		p = realloc(p, n);
	sink[0] = p;
	free(sink[0]);
}

NOINLINE static void calloc_site(void **out)
{
	for (int i = 0; i < CALLOC_N; i++)
		out[i] = calloc(CALLOC_NMEMB, CALLOC_SZ);
}

NOINLINE static void memalign_site(void **out)
{
	for (int i = 0; i < MEMALIGN_N; i++)
		if (posix_memalign(&out[i], 64, MEMALIGN_SZ) != 0)
			out[i] = NULL;
}

NOINLINE static void overflow_site(void)
{
	sink[0] = calloc(huge, 4);
}

NOINLINE static void refail_site(void)
{
	void *p = malloc(64), *q;

	sink[0] = p;
	q = realloc(p, huge);
	sink[1] = q;
	free(q ? q : p);
}

NOINLINE static void rezero_site(void)
{
	void *p = malloc(32);

	sink[0] = p;
	sink[1] = realloc(p, 0);
	free(sink[1]);
}

NOINLINE static void big_site(void)
{
	char *p = malloc(BIG_SZ);

	sink[0] = p;
	p[0] = 1;
	free(sink[0]);
}

NOINLINE static void pre_site(void **out)
{
	for (int i = 0; i < PRE_N; i++)
		out[i] = malloc(48);
}

static void free_all(void *volatile *v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
}

int main(int argc, char **argv)
{
	void *volatile *leaks = sink + 2, *volatile *grow = leaks + LEAK_N;
	void *volatile *cal = grow + GROW_ROUNDS * GROW_PER, *volatile *mal = cal + CALLOC_N;
	void *volatile *pre = mal + MEMALIGN_N;
	long round_ms = argc > 2 ? atol(argv[2]) : 0;

	gate_init();
	pre_site((void **)pre);
	if (gate_wait(argc > 1 ? argv[1] : "0") != 0) {
		fprintf(stderr, "usage: memsites [START]\n");
		return 2;
	}
	free_all(pre, PRE_N);
	leak_site((void **)leaks);
	temp_site();
	for (int r = 0; r < GROW_ROUNDS; r++) {
		if (round_ms) {
			struct timespec ts = { round_ms / 1000, round_ms % 1000 * 1000000L };

			nanosleep(&ts, NULL);
			temp_site();
		}
		grow_site((void **)grow, r);
	}
	realloc_site();
	calloc_site((void **)cal);
	memalign_site((void **)mal);
	overflow_site();
	refail_site();
	rezero_site();
	big_site();
	if (!round_ms)
		free_all(grow, GROW_ROUNDS * GROW_PER);
	free_all(cal, CALLOC_N);
	free_all(mal, MEMALIGN_N);
	return 0;
}
