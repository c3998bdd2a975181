/* bursty: timer-driven work whose CPU time and split are measured by the
 * workload itself.
 *
 *   bursty [THREADS [MS [IDLE [START]]]]   (defaults 1 3000 0 0)
 *
 * THREADS workers each alternate a 50 us spin and a 50 us nanosleep for MS
 * ms of wall time; two spins of three run in burst_a, one in burst_b.
 * IDLE more threads block in pause() the whole run.  START is the start
 * gate (gate.h).
 * Ground truth: with BURSTY_TRUTH=FILE in the environment, each worker
 * writes at exit one line "tid cpu_ns schedstat_ns a_ns b_ns": its own CPU
 * clock (CLOCK_THREAD_CPUTIME_ID) from its start to its end, the growth of
 * the kernel's /proc/self/task/TID/schedstat run time over the same span,
 * and the CPU time spent in burst_a and in burst_b (each call bracketed by
 * the thread's CPU clock). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"
#include "threadclock.h"

static long run_ms = 3000;
static volatile unsigned long sink;

struct worker {
	pthread_t t;
	pid_t tid;
	uint64_t cpu_ns, sched_ns, a_ns, b_ns;
};

/* Spins 50 us of wall time (CLOCK_MONOTONIC is read in the vDSO: the
 * samples stay in user space, in the caller of spin). */
static __attribute__((noinline)) void spin_50us(void)
{
	uint64_t end = clock_ns(CLOCK_MONOTONIC) + 50000;
	unsigned long x = sink;

	do {
		for (int i = 0; i < 200; i++)
			x = x * 6364136223846793005ul + 1442695040888963407ul;
		sink = x;
	} while (clock_ns(CLOCK_MONOTONIC) < end);
}

__attribute__((noinline)) void burst_a(void)
{
	spin_50us();
	sink++;
}

__attribute__((noinline)) void burst_b(void)
{
	spin_50us();
	sink++;
}

static void nap_50us(void)
{
	struct timespec ts = { 0, 50000 };

	nanosleep(&ts, NULL);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct thread_clocks k0, k1;
	uint64_t end;

	w->tid = gettid();
	thread_clocks_read(&k0, 0);
	end = k0.mono + (uint64_t)run_ms * 1000000u;
	for (long i = 0; clock_ns(CLOCK_MONOTONIC) < end; i++) {
		uint64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);

		if (i % 3 == 2) {
			burst_b();
			w->b_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
		} else {
			burst_a();
			w->a_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
		}
		nap_50us();
	}
	thread_clocks_read(&k1, 1);
	w->sched_ns = k1.run - k0.run;
	w->cpu_ns = k1.cpu - k0.cpu;
	return NULL;
}

/* Blocks for good: an idle thread of a service. */
static void *idle_main(void *arg)
{
	sigset_t none;

	(void)arg;
	sigemptyset(&none);
	for (;;)
		sigsuspend(&none);
	return NULL;
}

/* "tid cpu_ns schedstat_ns a_ns b_ns" a worker, to path.  0 or -1. */
static int write_truth(const char *path, const struct worker *w, int n)
{
	FILE *f = fopen(path, "w");
	int err = f ? 0 : -1;

	for (int i = 0; f && i < n; i++)
		fprintf(f, "%d %llu %llu %llu %llu\n", (int)w[i].tid,
			(unsigned long long)w[i].cpu_ns, (unsigned long long)w[i].sched_ns,
			(unsigned long long)w[i].a_ns, (unsigned long long)w[i].b_ns);
	if (f && fclose(f))
		err = -1;
	return err;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1, idle = argc > 3 ? atoi(argv[3]) : 0;
	const char *truth = getenv("BURSTY_TRUTH");
	struct worker *w;
	pthread_t it;

	gate_init();
	if (argc > 2)
		run_ms = atol(argv[2]);
	if (n < 1 || n > 256 || idle < 0 || idle > 256 || run_ms <= 0) {
		fprintf(stderr, "usage: bursty [THREADS [MS [IDLE [START]]]]\n");
		return 2;
	}
	for (int i = 0; i < idle; i++)
		if (pthread_create(&it, NULL, idle_main, NULL) != 0)
			return 1;
	if (gate_wait(argc > 4 ? argv[4] : NULL))
		return 2;
	w = calloc((size_t)n, sizeof(*w));
	for (int i = 0; w && i < n; i++)
		if (pthread_create(&w[i].t, NULL, worker_main, &w[i]) != 0)
			return 1;
	if (!w)
		return 1;
	for (int i = 0; i < n; i++)
		pthread_join(w[i].t, NULL);
	if (truth && write_truth(truth, w, n))
		return 1;
	free(w);
	return 0;
}
