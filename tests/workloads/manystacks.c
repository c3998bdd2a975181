/* N distinct stacks, each blocking exactly once: run(i) descends DEPTH
 * levels through step_a (bit 0 of i) and step_b (bit 1), lowest bit first,
 * and the leaf sleeps 50 us.  So the off-CPU stacks under leaf_block are
 * exactly the N chains of i = 0 .. N-1, one each: more distinct stacks
 * than ebprof's frames map holds at once (CPU_MAX_STACKS).
 *
 *   manystacks N [START]     N <= 2^DEPTH; START as in gate.h */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gate.h"

#define DEPTH 16

static volatile unsigned sink;

__attribute__((noinline)) static void leaf_block(void)
{
	struct timespec ts = { 0, 50000 };

	nanosleep(&ts, NULL);
	sink++;
}

__attribute__((noinline)) static void step_a(unsigned v, int d);
__attribute__((noinline)) static void step_b(unsigned v, int d);

/* The next level, by the next bit of v; the add after the call keeps it a
 * call (no tail call), so every level is a frame, and its amount (each
 * function its own) keeps the compiler from folding step_a and step_b into
 * one. */
#define DESCEND(v, d, add)                       \
	do {                                     \
		if (!(d))                        \
			leaf_block();            \
		else if ((v)&1)                  \
			step_b((v) >> 1, (d)-1); \
		else                             \
			step_a((v) >> 1, (d)-1); \
		sink += (add);                   \
	} while (0)

static void step_a(unsigned v, int d)
{
	DESCEND(v, d, 1);
}

static void step_b(unsigned v, int d)
{
	DESCEND(v, d, 2);
}

__attribute__((noinline)) static void run(unsigned i)
{
	DESCEND(i, DEPTH, 3);
}

int main(int argc, char **argv)
{
	gate_init();
	if (argc < 2) {
		fprintf(stderr, "usage: manystacks N [START]\n");
		return 2;
	}
	unsigned long n = strtoul(argv[1], NULL, 10);
	if (!n || n > 1ul << DEPTH || gate_wait(argc > 2 ? argv[2] : "0")) {
		fprintf(stderr, "manystacks: N in 1..%lu, START as in gate.h\n", 1ul << DEPTH);
		return 2;
	}
	for (unsigned long i = 0; i < n; i++)
		run((unsigned)i);
	return 0;
}
