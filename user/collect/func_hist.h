/* func collector: latency percentiles (func_hist.c) of the log-linear
 * histograms the BPF side fills (include/func.h buckets). */
#ifndef EBPROF_FUNC_HIST_H
#define EBPROF_FUNC_HIST_H

#include <stddef.h>
#include <stdint.h>

/* The structs and limits shared with bpf/func.bpf.c. */
#include "func.h"

/* Value at percentile pct (0..100) of a log-linear histogram (include/
 * func.h buckets), interpolated within its bucket and clamped to
 * [min, max].  0 when empty. */
uint64_t func_hist_percentile(const uint64_t *buckets, size_t nbuckets, double pct, uint64_t min,
			      uint64_t max);

#endif
