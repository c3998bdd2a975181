/* ebprof diff --format folded: "stack before after" per folded stack,
 * the input of difffolded-style differential flame graphs
 * (flamegraph.pl reads it directly: red grew, blue shrank). */
#include "output/diff.h"
#include "output/fold.h"
#include "output/writer.h"

#include <errno.h>
#include <string.h>

/* Both runs' stacks of one report folded with metric m; before's lines
 * that after lacks come last. */
static int write_pair(FILE *out, const struct profile *b, int mb, const struct profile *a, int ma,
		      int prefix)
{
	struct folder fb = { 0 }, fa = { 0 };
	const char *unit = a->metrics[ma].unit;
	int r = fold_profile(&fb, b, mb, prefix);

	if (!r)
		r = fold_profile(&fa, a, ma, prefix);
	for (size_t i = 0; !r && i < fa.lines.n; i++) {
		int64_t k = folder_find(&fb, fa.lines.v[i]);

		fprintf(out, "%s %lld %lld\n", fa.lines.v[i],
			(long long)folded_value(k >= 0 ? fb.values[k] : 0, unit),
			(long long)folded_value(fa.values[i], unit));
	}
	for (size_t i = 0; !r && i < fb.lines.n; i++)
		if (folder_find(&fa, fb.lines.v[i]) < 0)
			fprintf(out, "%s %lld 0\n", fb.lines.v[i],
				(long long)folded_value(fb.values[i], unit));
	folder_free(&fb);
	folder_free(&fa);
	return r;
}

int diff_write_folded(FILE *out, const struct profile *const *before, size_t nb,
		      const struct profile *const *after, size_t na, const char *metric, FILE *err)
{
	const struct profile *pa[na ? na : 1], *pb[na ? na : 1];
	int ma[na ? na : 1], mb[na ? na : 1], r = 0;
	size_t n = 0;

	for (size_t i = 0; i < na; i++) {
		const struct profile *a = after[i], *b = profile_find_report(before, nb, a->report);

		if (!b || !a->nmetrics || (!a->nsamples && !b->nsamples))
			continue;
		ma[n] = metric ? profile_metric_index(a, metric) :
				 writer_pick_metric(a, NULL, NULL);
		mb[n] = ma[n] >= 0 ? profile_metric_index(b, a->metrics[ma[n]].name) : -1;
		if (mb[n] < 0)
			continue;
		pa[n] = a;
		pb[n++] = b;
	}
	if (!n) {
		fprintf(err,
			"ebprof: diff --format folded needs a stack report in both files%s%s\n",
			metric ? " with the metric " : "", metric ? metric : "");
		return -EINVAL;
	}
	for (size_t i = 0; i < n && !r; i++)
		r = write_pair(out, pb[i], mb[i], pa[i], ma[i], n > 1);
	return r ? r : ferror(out) ? -EIO : 0;
}
