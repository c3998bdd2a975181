/* Sampling perf events in the target's own CPU time: a cpu-clock event per
 * thread, inherited by the threads and processes it creates later (as
 * `perf record` does), each running a BPF program.  Sampling per thread
 * rather than per CPU cannot alias with the target's own timer wakeups:
 * the event's clock only turns while the thread runs. */
#ifndef EBPROF_PERF_H
#define EBPROF_PERF_H

#include <stddef.h>
#include <sys/types.h>

struct bpf_program;
struct bpf_link;

struct perf_events {
	struct perf_thread_event {
		struct bpf_link *link; /* owns the perf event fd */
		pid_t tid;
	} * ev;
	size_t n, cap;
};

/* Opens an inherited software cpu-clock event at freq Hz on every thread
 * of process pid not yet in pe (listed again until a pass finds no new
 * thread, so threads created meanwhile are covered) and attaches prog to
 * each.  Threads and children created later inherit the events.  A
 * thread that exits before its event is opened is skipped.  0 or
 * negative errno (pe keeps what was opened). */
int perf_events_add_process(struct perf_events *pe, int freq, struct bpf_program *prog, pid_t pid);
void perf_events_close(struct perf_events *pe);

#endif
