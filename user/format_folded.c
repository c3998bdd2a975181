/* Folded stacks ("root;...;leaf value"), the input of flamegraph.pl,
 * inferno and speedscope.  One metric; "ns" values are written in
 * microseconds, kernel frames get the "_[k]" suffix. */
#include "format.h"

#include <errno.h>
#include <string.h>

static int64_t folded_value(int64_t v, const char *unit)
{
	if (unit && strcmp(unit, "ns") == 0)
		return v >= 0 ? (v + 500) / 1000 : -((-v + 500) / 1000);
	return v;
}

static void write_frame(FILE *out, const struct pframe *f)
{
	char name[512];
	pframe_name(f, name, sizeof(name), 0);
	fmt_sanitize(name, ";");
	fputs(name, out);
	if (f->kind == FRAME_KERNEL)
		fputs("_[k]", out);
}

static void write_profile(FILE *out, const struct profile *p, int m, int prefix)
{
	const char *unit = p->metrics[m].unit;
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct psample *s = &p->samples[i];
		int64_t v = folded_value(s->values[m], unit);
		if (!v || !s->nframes)
			continue;
		if (prefix)
			fprintf(out, "%s;", p->report);
		for (uint32_t k = 0; k < s->nframes; k++) {
			if (k)
				fputc(';', out);
			write_frame(out, &p->frames[s->frames[k]]);
		}
		fprintf(out, " %lld\n", (long long)v);
	}
}

static int folded_write(FILE *out, struct profile **profiles, size_t n,
			const struct write_opts *o, FILE *err)
{
	const char *metric = o ? o->metric : NULL;
	int metric_idx[n ? n : 1];
	size_t nstack = 0, nmatch = 0;
	const struct profile *last = NULL;

	for (size_t i = 0; i < n; i++) {
		metric_idx[i] = -1;
		if (!profiles[i] || !profiles[i]->nsamples || !profiles[i]->nmetrics)
			continue;
		nstack++;
		last = profiles[i];
		metric_idx[i] = metric ? profile_metric_index(profiles[i], metric)
				       : writer_pick_metric(profiles[i], NULL, NULL);
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
	for (size_t i = 0; i < n; i++)
		if (metric_idx[i] >= 0)
			write_profile(out, profiles[i], metric_idx[i], nmatch > 1);
	return ferror(out) ? -EIO : 0;
}

const struct writer writer_folded = {
	.name = "folded",
	.desc = "folded stacks for flamegraph.pl / inferno / speedscope",
	.write = folded_write,
};
