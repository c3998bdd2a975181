/* A thread's clocks as the kernel keeps them, read by the thread itself:
 * CLOCK_MONOTONIC, its CPU clock (CLOCK_THREAD_CPUTIME_ID) and its
 * /proc/self/task/TID/schedstat (ns on a CPU, ns waiting on a run queue,
 * time slices).  Read at the edges of a span of work, they are the
 * ground truth of a profiler's per-thread on-CPU, off-CPU and wall time
 * over that span. */
#ifndef EBPROF_WORKLOAD_THREADCLOCK_H
#define EBPROF_WORKLOAD_THREADCLOCK_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

struct thread_clocks {
	uint64_t mono, cpu;	    /* CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID */
	uint64_t run, wait, slices; /* schedstat's three fields */
};

static inline uint64_t clock_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Reads the calling thread's clocks: CLOCK_MONOTONIC first at the start
 * of a span (end 0) and last at its end (end 1), its CPU clock next to it,
 * schedstat inside them.  0, or -1 when schedstat cannot be read. */
static inline int thread_clocks_read(struct thread_clocks *c, int end)
{
	char path[64];
	unsigned long long run = 0, wait = 0, slices = 0;
	int n = 0;
	FILE *f;

	if (!end) {
		c->mono = clock_ns(CLOCK_MONOTONIC);
		c->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)gettid());
	f = fopen(path, "r");
	if (f) {
		n = fscanf(f, "%llu %llu %llu", &run, &wait, &slices);
		fclose(f);
	}
	c->run = run;
	c->wait = wait;
	c->slices = slices;
	if (end) {
		c->cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		c->mono = clock_ns(CLOCK_MONOTONIC);
	}
	return n == 3 ? 0 : -1;
}

#endif
