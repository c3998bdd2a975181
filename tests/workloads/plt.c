/* Calls through the lazy .plt, for the unwinder's PLT rows: built without
 * frame pointers and linked with -z lazy against libplt.so (lib/plt.c),
 * as plt (the standard lazy .plt) and plt_ibt (-fcf-protection -z ibtplt:
 * calls go to .plt.sec, whose jump reaches the IBT lazy .plt until
 * bound).
 *
 *   plt MS START
 *     main > plt_caller > plt_tiny's stub > plt_tiny (the library), in a
 *     loop until the process has used MS milliseconds of CPU
 *     (ITIMER_PROF).
 *
 * plt_caller holds the only call through the .plt after the start: every
 * other imported function is called (and bound) before the gate opens.
 * So a sample in the .plt has plt_caller as its caller, whatever the
 * instruction.  Run with LD_BIND_NOT=1, the dynamic linker never stores
 * the resolved address in the GOT: every call takes the whole lazy path
 * (the entry's push and jump to PLT0, PLT0's push and jump into the
 * dynamic linker's resolver), so samples land on every instruction of the
 * lazy .plt, the ones after the entry's push included. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "gate.h"

#define KEEP __attribute__((noinline, noclone))

unsigned long plt_tiny(unsigned long x);

static volatile sig_atomic_t done;
static volatile unsigned long sink;

static void on_prof(int sig)
{
	(void)sig;
	done = 1;
}

KEEP static unsigned long plt_caller(void)
{
	unsigned long x = 0;

	while (!done)
		x = plt_tiny(x);
	return x;
}

int main(int argc, char **argv)
{
	struct itimerval it = { 0 };
	long ms;

	gate_init();
	if (argc < 2 || (ms = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: plt MS [START]\n");
		return 2;
	}
	/* The CPU time limit from now: waiting at the gate takes none. */
	signal(SIGPROF, on_prof);
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_PROF, &it, NULL);
	if (gate_wait(argc > 2 ? argv[2] : NULL)) {
		fprintf(stderr, "usage: plt MS [START]\n");
		return 2;
	}
	sink += plt_caller();
	return 0;
}
