/* Sampling perf events, one per online CPU, each running a BPF program. */
#ifndef EBPROF_PERF_H
#define EBPROF_PERF_H

#include <stddef.h>

struct bpf_program;
struct bpf_link;

struct perf_events {
	struct bpf_link **links; /* each owns its perf event fd */
	size_t n;
};

/* Opens a software cpu-clock event at freq Hz on every online CPU and
 * attaches prog to each.  0 or negative errno. */
int perf_events_open_cpu_clock(struct perf_events *pe, int freq, struct bpf_program *prog);
void perf_events_close(struct perf_events *pe);

#endif
