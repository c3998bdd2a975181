/* Start gate shared by the workloads: their START argument says when the
 * measured work begins.
 *
 *   a number  sleep that many milliseconds first (0: start at once)
 *   sig       wait until SIGUSR1 arrives: a test sends it once the
 *             profiler says it is attached, so no call is missed however
 *             slow the machine is
 *
 * gate_init() must run first in main(), before any thread is created, so
 * every thread inherits SIGUSR1 blocked and only the gate receives it. */
#ifndef EBPROF_WORKLOAD_GATE_H
#define EBPROF_WORKLOAD_GATE_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline void gate_init(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Returns 0 once the work may start, -1 for a START that is not valid. */
static inline int gate_wait(const char *start)
{
	if (!start)
		return 0;
	if (strcmp(start, "sig") == 0) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		return sigwait(&set, &sig) == 0 ? 0 : -1;
	}
	char *end;
	long ms = strtol(start, &end, 10);
	if (*start == '\0' || *end != '\0' || ms < 0)
		return -1;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
	return 0;
}

#endif
