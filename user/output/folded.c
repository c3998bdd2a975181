/* Folded stacks ("root;...;leaf value"), the input of flamegraph.pl,
 * inferno and speedscope.  One metric; "ns" values are written in
 * microseconds, kernel frames get the "_[k]" suffix.  Stacks that differ
 * only in offsets are merged into one line. */
#include "output/writer.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int64_t folded_value(int64_t v, const char *unit)
{
	if (unit && strcmp(unit, "ns") == 0)
		return v >= 0 ? (v + 500) / 1000 : -((-v + 500) / 1000);
	return v;
}

/* Stacks that differ only in offsets fold to the same line: lines are
 * merged (first-seen order) before the value is converted and written. */
struct fline {
	char *text;
	int64_t value;
};

struct folder {
	struct fline *lines;
	size_t n, cap;
	uint32_t *slots; /* line index + 1; 0 = empty */
	size_t nslots;	 /* power of two */
	char *buf;	 /* line being built */
	size_t len, bufcap;
};

static int append(struct folder *f, const char *s)
{
	size_t l = strlen(s);
	if (f->len + l + 1 > f->bufcap) {
		size_t cap = f->bufcap ? f->bufcap : 256;
		while (cap < f->len + l + 1)
			cap *= 2;
		char *b = realloc(f->buf, cap);
		if (!b)
			return -ENOMEM;
		f->buf = b;
		f->bufcap = cap;
	}
	memcpy(f->buf + f->len, s, l + 1);
	f->len += l;
	return 0;
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int rehash(struct folder *f)
{
	size_t n = f->nslots ? f->nslots * 2 : 1024;
	uint32_t *slots = calloc(n, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		size_t j = hash_text(f->lines[i].text) & (n - 1);
		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(f->slots);
	f->slots = slots;
	f->nslots = n;
	return 0;
}

/* Adds value to the line in f->buf. */
static int fold(struct folder *f, int64_t value)
{
	int r;
	if ((f->n + 1) * 2 > f->nslots && (r = rehash(f)))
		return r;
	size_t j = hash_text(f->buf) & (f->nslots - 1);
	for (; f->slots[j]; j = (j + 1) & (f->nslots - 1)) {
		struct fline *l = &f->lines[f->slots[j] - 1];
		if (strcmp(l->text, f->buf) == 0) {
			l->value += value;
			return 0;
		}
	}
	if (array_grow((void **)&f->lines, &f->cap, f->n + 1, sizeof(*f->lines)))
		return -ENOMEM;
	if (!(f->lines[f->n].text = strdup(f->buf)))
		return -ENOMEM;
	f->lines[f->n].value = value;
	f->slots[j] = (uint32_t)++f->n;
	return 0;
}

static void folder_free(struct folder *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->lines[i].text);
	free(f->lines);
	free(f->slots);
	free(f->buf);
}

static int fold_profile(struct folder *f, const struct profile *p, int m, int prefix)
{
	char name[512];
	int r = 0;
	for (size_t i = 0; i < p->nsamples && !r; i++) {
		const struct psample *s = &p->samples[i];
		if (!s->values[m] || !s->nframes)
			continue;
		f->len = 0;
		if (prefix && ((r = append(f, p->report)) || (r = append(f, ";"))))
			break;
		for (uint32_t k = 0; k < s->nframes && !r; k++) {
			const struct pframe *fr = &p->frames[s->frames[k]];
			pframe_name(fr, name, sizeof(name), 0);
			fmt_sanitize(name, ";");
			if (k)
				r = append(f, ";");
			if (!r)
				r = append(f, name);
			if (!r && fr->kind == FRAME_KERNEL)
				r = append(f, "_[k]");
		}
		if (!r)
			r = fold(f, s->values[m]);
	}
	return r;
}

static void write_lines(FILE *out, const struct folder *f, const char *unit)
{
	for (size_t i = 0; i < f->n; i++) {
		int64_t v = folded_value(f->lines[i].value, unit);
		if (v)
			fprintf(out, "%s %lld\n", f->lines[i].text, (long long)v);
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
