/* N threads, thread i calls work() exactly (i + 1) * CALLS times, each call
 * calling leaf() once.  Usage: threads N CALLS [START]
 * START is the start gate (gate.h): a delay in ms, or "sig".
 * Ground truth: work and leaf ncalls = CALLS * N * (N + 1) / 2. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

static long calls = 100;
static volatile long sink;

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
	long n = (long)arg;

	for (long i = 0; i < (n + 1) * calls; i++)
		work(i);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t *t, idle;

	gate_init();
	if (argc > 2)
		calls = atol(argv[2]);
	if (n < 1 || n > 1024)
		return 2;
	if (pthread_create(&idle, NULL, idle_main, NULL) != 0)
		return 1;
	if (gate_wait(argc > 3 ? argv[3] : NULL))
		return 2;
	t = calloc(n, sizeof(*t));
	if (!t)
		return 1;
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, thread_main, (void *)i) != 0)
			return 1;
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
	return 0;
}
