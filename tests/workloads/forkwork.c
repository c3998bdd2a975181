/* forkwork: a parent whose work is done by child processes, as a service's
 * master and its workers.
 *
 *   forkwork [CHILD_MS [START]]   (defaults 400 0)
 *
 * At start the parent forks two children, which wait for the start gate
 * (START, gate.h, opened in the parent and passed on through a pipe) and
 * then spin CHILD_MS of their own CPU time in child_spin_a and child_spin_b.
 * Once the gate opens the parent forks a third child spinning CHILD_MS in
 * child_spin_late, then waits for the three (waitpid) and exits.  With
 * FORKWORK_TRUTH set, each child appends "FUNCTION PID CPU_NS" to that
 * file: its own CPU time measured around the spin. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"

static volatile unsigned long sink;

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Pure computation, the clock read every 200k iterations. */
static __attribute__((always_inline)) inline void spin_for(double ms)
{
	uint64_t end = cpu_ns() + (uint64_t)(ms * 1e6);
	unsigned long x = sink;

	do {
		for (int i = 0; i < 200000; i++)
			x = x * 6364136223846793005ul + 1442695040888963407ul;
		sink = x;
	} while (cpu_ns() < end);
}

__attribute__((noinline)) void child_spin_a(double ms)
{
	spin_for(ms);
	sink++;
}
__attribute__((noinline)) void child_spin_b(double ms)
{
	spin_for(ms);
	sink++;
}
__attribute__((noinline)) void child_spin_late(double ms)
{
	spin_for(ms);
	sink++;
}

static void truth(const char *name, uint64_t ns)
{
	const char *path = getenv("FORKWORK_TRUTH");
	char line[96];
	int fd, n;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %d %llu\n", name, (int)getpid(),
		     (unsigned long long)ns);
	if (write(fd, line, (size_t)n) != n)
		sink++;
	close(fd);
}

/* A child: waits until the gate pipe's write end closes (gate NULL: at
 * once), spins, writes its truth and exits. */
static pid_t child(void (*spin)(double), const char *name, double ms, const int *gate)
{
	pid_t pid = fork();
	char c;

	if (pid != 0)
		return pid;
	if (gate) {
		close(gate[1]);
		while (read(gate[0], &c, 1) > 0)
			;
	}
	uint64_t t0 = cpu_ns();
	spin(ms);
	truth(name, cpu_ns() - t0);
	_exit(0);
}

int main(int argc, char **argv)
{
	double ms = argc > 1 ? atof(argv[1]) : 400;
	pid_t pids[3];
	int gate[2];

	gate_init();
	if (ms <= 0 || pipe(gate))
		return 2;
	pids[0] = child(child_spin_a, "child_spin_a", ms, gate);
	pids[1] = child(child_spin_b, "child_spin_b", ms, gate);
	if (pids[0] < 0 || pids[1] < 0)
		return 1;
	close(gate[0]);
	if (gate_wait(argc > 2 ? argv[2] : NULL))
		return 2;
	close(gate[1]); /* the children's gate opens */
	pids[2] = child(child_spin_late, "child_spin_late", ms, NULL);
	if (pids[2] < 0)
		return 1;
	for (int i = 0; i < 3; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			return 1;
	}
	return 0;
}
