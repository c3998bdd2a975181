/* func collector: percentiles of the log-linear latency histograms. */
#include "collect/func_hist.h"

uint64_t func_hist_percentile(const uint64_t *buckets, size_t nbuckets, double pct, uint64_t min,
			      uint64_t max)
{
	uint64_t total = 0, cum = 0;
	double rank, lo, hi, v;
	size_t b;

	for (b = 0; b < nbuckets; b++)
		total += buckets[b];
	if (!total)
		return 0;
	if (pct < 0)
		pct = 0;
	if (pct > 100)
		pct = 100;
	rank = pct / 100.0 * (double)total;
	for (b = 0; b < nbuckets; b++) {
		if (!buckets[b])
			continue;
		if ((double)(cum + buckets[b]) >= rank)
			break;
		cum += buckets[b];
	}
	if (b == nbuckets)
		b = nbuckets - 1;
	lo = (double)func_hist_lower((uint32_t)b);
	hi = b + 1 < FUNC_HIST_BUCKETS ? (double)func_hist_lower((uint32_t)b + 1) : (double)max;
	v = lo + (hi - lo) * ((rank - (double)cum) / (double)buckets[b]);
	if (v < (double)min)
		v = (double)min;
	if (max && v > (double)max)
		v = (double)max;
	return (uint64_t)(v + 0.5);
}
