/* Folded stacks ("root;...;leaf value"), the input of flamegraph.pl,
 * inferno and speedscope.  One metric; "ns" values are written in
 * microseconds, kernel frames get the "_[k]" suffix.  Stacks that differ
 * only in offsets are merged into one line. */
#include "output/fold.h"
#include "output/writer.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void write_lines(FILE *out, const struct folder *f, const char *unit)
{
	for (size_t i = 0; i < f->lines.n; i++) {
		int64_t v = folded_value(f->values[i], unit);
		if (v)
			fprintf(out, "%s %lld\n", f->lines.v[i], (long long)v);
	}
}

static int folded_write(FILE *out, const struct profile *const *profiles, size_t n,
			const struct write_opts *o, FILE *err)
{
	const char *metric = o ? o->metric : NULL;
	int metric_idx[n ? n : 1];
	size_t nstack = 0, nmatch = 0;
	const struct profile *last = NULL;

	for (size_t i = 0; i < n; i++) {
		metric_idx[i] = -1;
		/* A stack profile may be empty (an idle target): that is an
		 * empty flame graph, not an error.  A graph without samples
		 * (the exact func report) has no stacks to fold. */
		if (!profiles[i] || !profiles[i]->nmetrics ||
		    (!profiles[i]->nsamples && profiles[i]->nnodes))
			continue;
		nstack++;
		last = profiles[i];
		metric_idx[i] = metric ? profile_metric_index(profiles[i], metric) :
					 writer_pick_metric(profiles[i], NULL, NULL);
		if (metric_idx[i] >= 0)
			nmatch++;
	}
	if (!nstack) {
		if (err)
			fprintf(err, "ebprof: format folded needs a stack profile\n");
		return -EINVAL;
	}
	if (!nmatch) {
		/* Only reached with an explicit metric: report it for one profile. */
		writer_pick_metric(last, metric, err);
		return -EINVAL;
	}
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		if (metric_idx[i] < 0)
			continue;
		struct folder f = { 0 };
		r = fold_profile(&f, profiles[i], metric_idx[i], nmatch > 1);
		if (!r)
			write_lines(out, &f, profiles[i]->metrics[metric_idx[i]].unit);
		folder_free(&f);
	}
	return r ? r : ferror(out) ? -EIO : 0;
}

const struct writer writer_folded = {
	.name = "folded",
	.desc = "folded stacks for flamegraph.pl / inferno / speedscope",
	.write = folded_write,
};
