/* N threads, thread i calls work() exactly (i + 1) * CALLS times, each call
 * calling leaf() once.  Usage: threads N CALLS [START]
 * START is the start gate (gate.h): a delay in ms, or "sig".
 * Ground truth: work and leaf ncalls = CALLS * N * (N + 1) / 2.  How long
 * each worker ran and was off-CPU depends on the machine (a 100 us sleep
 * lasts longer on a loaded one): with THREADS_TRUTH=FILE in the
 * environment, each worker's clocks as the kernel keeps them
 * (threadclock.h), read by itself at its first and last instruction of
 * work, go to FILE at exit, one line a worker:
 *   tid mono0 mono1 cpu0 cpu1 run0 run1 wait0 wait1
 * CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID and schedstat's run time and
 * run-queue wait (ns) at the start (0) and at the end (1). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"
#include "threadclock.h"

static long calls = 100;
static volatile long sink;

struct worker {
	pthread_t t;
	long n;
	pid_t tid;
	struct thread_clocks c0, c1; /* at its first and last instruction of work */
	int bad;		     /* schedstat unreadable */
};

__attribute__((noinline)) void leaf(long i)
{
	sink += i;
}

__attribute__((noinline)) void work(long i)
{
	struct timespec ts = { 0, 100000 }; /* 100 us */

	leaf(i);
	nanosleep(&ts, NULL);
}

/* A thread that exists from the start and never calls work(): a profiler
 * may be pointed at its thread id and must profile the whole process. */
static void *idle_main(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;

	w->tid = gettid();
	w->bad = thread_clocks_read(&w->c0, 0);
	for (long i = 0; i < (w->n + 1) * calls; i++)
		work(i);
	w->bad |= thread_clocks_read(&w->c1, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	const char *truth = getenv("THREADS_TRUTH");
	struct worker *w;
	pthread_t idle;

	gate_init();
	if (argc > 2)
		calls = atol(argv[2]);
	if (n < 1 || n > 1024)
		return 2;
	if (pthread_create(&idle, NULL, idle_main, NULL) != 0)
		return 1;
	if (gate_wait(argc > 3 ? argv[3] : NULL))
		return 2;
	w = calloc(n, sizeof(*w));
	if (!w)
		return 1;
	for (long i = 0; i < n; i++) {
		w[i].n = i;
		if (pthread_create(&w[i].t, NULL, thread_main, &w[i]) != 0)
			return 1;
	}
	for (int i = 0; i < n; i++)
		pthread_join(w[i].t, NULL);
	if (truth) {
		FILE *f = fopen(truth, "w");

		if (!f)
			return 1;
		for (int i = 0; i < n; i++) {
			const struct thread_clocks *a = &w[i].c0, *b = &w[i].c1;

			if (w[i].bad)
				return 1;
			fprintf(f, "%d %llu %llu %llu %llu %llu %llu %llu %llu\n", (int)w[i].tid,
				(unsigned long long)a->mono, (unsigned long long)b->mono,
				(unsigned long long)a->cpu, (unsigned long long)b->cpu,
				(unsigned long long)a->run, (unsigned long long)b->run,
				(unsigned long long)a->wait, (unsigned long long)b->wait);
		}
		if (fclose(f))
			return 1;
	}
	free(w);
	return 0;
}
