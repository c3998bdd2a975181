/* fixedwork: a fixed amount of CPU-bound work for overhead benchmarks.
 *
 *   fixedwork [-w] [-n ROUNDS]      hash work, ROUNDS x 1M inner steps
 *                                   (default 1200, about 4 s on one core)
 *   fixedwork [-w] -c CALLS         call the tiny noinline function
 *                                   tiny_call() exactly CALLS times
 *
 * The work runs through a few noinline functions (main -> work_round ->
 * mix_block -> hash_step, plus a sibling branch) so sampled stacks have a
 * mild depth.  The program times only its work loop with CLOCK_MONOTONIC
 * and prints one line on stdout:
 *
 *   fixedwork: work_ns=N cpu_ns=N calls=N checksum=X
 *
 * work_ns is the loop's wall time, cpu_ns this process's user+sys CPU time
 * at the end (getrusage), calls the number of tiny_call() calls.  With -w it
 * first reads one line from stdin, so a profiler can attach with -p before
 * the measured work begins. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((noinline)) unsigned long hash_step(unsigned long x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdul;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ul;
	x ^= x >> 33;
	return x;
}

__attribute__((noinline)) unsigned long lcg_block(unsigned long x, int n)
{
	for (int i = 0; i < n; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x;
}

__attribute__((noinline)) unsigned long mix_block(unsigned long x, int n)
{
	for (int i = 0; i < n; i++)
		x = hash_step(x + i);
	return x;
}

/* One round: 1M inner steps, about two thirds hashing, one third LCG. */
__attribute__((noinline)) unsigned long work_round(unsigned long x)
{
	for (int i = 0; i < 1000; i++) {
		x = mix_block(x, 666);
		x = lcg_block(x, 334);
	}
	return x;
}

__attribute__((noinline)) void tiny_call(long i)
{
	sink += i;
}

int main(int argc, char **argv)
{
	long rounds = 1200, calls = 0;
	int wait = 0, opt;
	unsigned long x = 0x9e3779b97f4a7c15ul;
	long long t0, t1, cpu;
	struct rusage ru;

	while ((opt = getopt(argc, argv, "wn:c:")) != -1) {
		switch (opt) {
		case 'w': wait = 1; break;
		case 'n': rounds = atol(optarg); break;
		case 'c': calls = atol(optarg); break;
		default:
			fprintf(stderr, "usage: fixedwork [-w] [-n ROUNDS | -c CALLS]\n");
			return 2;
		}
	}
	if (rounds < 0 || calls < 0) {
		fprintf(stderr, "fixedwork: counts must be >= 0\n");
		return 2;
	}
	if (wait) {
		char line[64];

		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	t0 = now_ns();
	if (calls) {
		for (long i = 0; i < calls; i++)
			tiny_call(i);
		x = sink;
	} else {
		for (long r = 0; r < rounds; r++)
			x = work_round(x);
	}
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &ru);
	cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	      (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
	printf("fixedwork: work_ns=%lld cpu_ns=%lld calls=%ld checksum=%lx\n", t1 - t0, cpu, calls,
	       x);
	return 0;
}
