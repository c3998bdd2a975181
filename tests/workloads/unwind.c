/* Stacks of known shape for the unwinder, built without frame pointers
 * (-O2 -fomit-frame-pointer, as a PIE: unwind, and not: unwind_nopie).
 * Every function of a chain is noinline and uses its callee's result, so
 * no call becomes a jump.  Each mode spins in its leaf until the process
 * has used MS milliseconds of CPU (ITIMER_PROF: no clock call in the
 * leaf).
 *
 *   unwind MODE MS START
 *     chain    main > chain_a > chain_b > chain_c > spin_leaf
 *     recurse  main > recurse x DEPTH (env UNWIND_DEPTH, default 100) > rec_leaf
 *     threads  two threads: thread_one > one_a > spin_one and
 *              thread_two > two_a > two_b > spin_two (main joins them)
 *     qsort    main > sort_caller > qsort (libc) ... > cmp_slow
 *     signal   main > sig_caller > sig_interrupted, interrupted after
 *              20 ms (ITIMER_REAL) by SIGALRM, whose handler spins to
 *              the end: on_alarm > handler_spin, above glibc's
 *              __restore_rt signal frame
 *     sigfirst main > first_caller > sig_first (a one-byte function
 *              right after another, sig_before, in a loop), interrupted
 *              by SIGALRM (ITIMER_REAL, every ms) until a signal arrives
 *              with the pc on sig_first's first instruction; that
 *              handler spins to the end: on_first > first_spin, above
 *              __restore_rt
 *     dlopen   main > dlopen_caller > dl_entry > dl_mid > dl_spin, the last
 *              three in the library env UNWIND_DL names, dlopened after
 *              the start (tests/workloads/dl/unwind_dl.c)
 *     vdso     main > vdso_caller > vdso_loop > clock_gettime (libc) > the
 *              vdso's clock_gettime, in a loop
 */
#define _GNU_SOURCE /* REG_RIP */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>

#include "gate.h"

#define KEEP __attribute__((noinline, noclone))

static volatile sig_atomic_t done;
static volatile unsigned long sink;

static void on_prof(int sig)
{
	(void)sig;
	done = 1;
}

KEEP static unsigned long spin_leaf(void)
{
	unsigned long x = 0;

	while (!done)
		x += sink + 1;
	return x;
}

KEEP static unsigned long chain_c(void)
{
	return spin_leaf() + 3;
}

KEEP static unsigned long chain_b(void)
{
	return chain_c() * 5;
}

KEEP static unsigned long chain_a(void)
{
	return chain_b() + 7;
}

KEEP static unsigned long rec_leaf(void)
{
	return spin_leaf() + 1;
}

KEEP static unsigned long recurse(int n)
{
	unsigned long r = n > 1 ? recurse(n - 1) : rec_leaf();

	return r + (unsigned long)n;
}

KEEP static unsigned long spin_one(void)
{
	return spin_leaf() + 11;
}

KEEP static unsigned long one_a(void)
{
	return spin_one() * 3;
}

KEEP static unsigned long spin_two(void)
{
	return spin_leaf() + 13;
}

KEEP static unsigned long two_b(void)
{
	return spin_two() * 7;
}

KEEP static unsigned long two_a(void)
{
	return two_b() + 17;
}

KEEP static void *thread_one(void *arg)
{
	sink += one_a();
	return arg;
}

KEEP static void *thread_two(void *arg)
{
	sink += two_a();
	return arg;
}

/* Slow on purpose: most of qsort's time is in here, called from libc. */
KEEP static int cmp_slow(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	for (int i = 0; i < 2000; i++)
		sink += (unsigned long)i;
	return (x > y) - (x < y);
}

KEEP static unsigned long sort_caller(void)
{
	enum { N = 4096 };
	static long v[N];
	unsigned long rounds = 0;

	while (!done) {
		for (int i = 0; i < N; i++)
			v[i] = (i * 7919L) % N;
		qsort(v, N, sizeof(v[0]), cmp_slow);
		rounds++;
	}
	return rounds + (unsigned long)v[0];
}

KEEP static unsigned long dlopen_caller(void)
{
	const char *path = getenv("UNWIND_DL");
	void *h = path ? dlopen(path, RTLD_NOW) : NULL;
	unsigned long (*entry)(volatile sig_atomic_t *);

	if (!h) {
		fprintf(stderr, "unwind: dlopen %s: %s\n", path ? path : "(UNWIND_DL unset)",
			dlerror());
		exit(2);
	}
	*(void **)&entry = dlsym(h, "dl_entry");
	if (!entry) {
		fprintf(stderr, "unwind: no dl_entry in %s\n", path);
		exit(2);
	}
	return entry(&done) + 1;
}

KEEP static unsigned long vdso_loop(void)
{
	struct timespec ts;
	unsigned long x = 0;

	while (!done) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x += (unsigned long)ts.tv_nsec;
	}
	return x;
}

KEEP static unsigned long vdso_caller(void)
{
	return vdso_loop() + 1;
}

/* The three spin loops differ (identical functions may be folded). */
KEEP static unsigned long handler_spin(void)
{
	unsigned long x = 0;

	while (!done)
		x += sink * 2 + 1;
	return x;
}

KEEP static void on_alarm(int sig)
{
	sink += handler_spin() + (unsigned long)sig;
}

KEEP static unsigned long sig_interrupted(void)
{
	unsigned long x = 0;

	while (!done)
		x += sink + 3;
	return x;
}

KEEP static unsigned long sig_caller(void)
{
	struct itimerval it = { .it_value = { .tv_usec = 20000 } };

	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
	return sig_interrupted() + 1;
}

/* Two one-byte functions back to back, with CFI and no padding between:
 * the byte before sig_first's first instruction is sig_before's. */
__asm__(".text\n"
	".p2align 4\n"
	".type sig_before, @function\n"
	"sig_before:\n"
	".cfi_startproc\n"
	"ret\n"
	".cfi_endproc\n"
	".size sig_before, . - sig_before\n"
	".type sig_first, @function\n"
	"sig_first:\n"
	".cfi_startproc\n"
	"ret\n"
	".cfi_endproc\n"
	".size sig_first, . - sig_first\n");
void sig_first(void);

KEEP static unsigned long first_spin(void)
{
	unsigned long x = 0;

	while (!done)
		x += sink * 5 + 1;
	return x;
}

/* Spins only when the interrupted pc is sig_first's first instruction
 * (the ucontext says so exactly); else returns, for the next tick. */
KEEP static void on_first(int sig, siginfo_t *si, void *ucv)
{
	static const struct itimerval off;
	ucontext_t *uc = ucv;

	(void)si;
	if ((unsigned long)uc->uc_mcontext.gregs[REG_RIP] != (unsigned long)sig_first)
		return;
	setitimer(ITIMER_REAL, &off, NULL);
	sink += first_spin() + (unsigned long)sig;
}

KEEP static unsigned long first_caller(void)
{
	struct sigaction sa = { .sa_sigaction = on_first, .sa_flags = SA_SIGINFO };
	struct itimerval it = { .it_interval = { .tv_usec = 1000 },
				.it_value = { .tv_usec = 1000 } };
	unsigned long n = 0;

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (!done) {
		sig_first();
		n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct itimerval it = { 0 };
	pthread_t t1, t2;
	long ms;

	gate_init();
	if (argc < 3 || (ms = atol(argv[2])) <= 0 || gate_wait(argc > 3 ? argv[3] : NULL)) {
		fprintf(stderr,
			"usage: unwind chain|recurse|threads|qsort|signal|sigfirst|dlopen|vdso MS "
			"[START]\n");
		return 2;
	}
	signal(SIGPROF, on_prof);
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_PROF, &it, NULL);
	if (!strcmp(argv[1], "chain")) {
		sink += chain_a();
	} else if (!strcmp(argv[1], "recurse")) {
		const char *d = getenv("UNWIND_DEPTH");

		sink += recurse(d ? atoi(d) : 100);
	} else if (!strcmp(argv[1], "threads")) {
		pthread_create(&t1, NULL, thread_one, NULL);
		pthread_create(&t2, NULL, thread_two, NULL);
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
	} else if (!strcmp(argv[1], "qsort")) {
		sink += sort_caller();
	} else if (!strcmp(argv[1], "signal")) {
		sink += sig_caller();
	} else if (!strcmp(argv[1], "sigfirst")) {
		sink += first_caller();
	} else if (!strcmp(argv[1], "dlopen")) {
		sink += dlopen_caller();
	} else if (!strcmp(argv[1], "vdso")) {
		sink += vdso_caller();
	} else {
		fprintf(stderr, "unwind: unknown mode %s\n", argv[1]);
		return 2;
	}
	return 0;
}
