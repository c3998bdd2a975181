/* Stacks folded into "root;...;leaf" lines with summed values: shared by
 * the folded writer and the folded diff. */
#include "output/fold.h"
#include "output/writer.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int64_t folded_value(int64_t v, const char *unit)
{
	if (unit && strcmp(unit, "ns") == 0)
		return v >= 0 ? (v + 500) / 1000 : -((-v + 500) / 1000);
	return v;
}

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

/* Adds value to the line in f->buf. */
static int fold(struct folder *f, int64_t value)
{
	int64_t i = strtab_add(&f->lines, f->buf);

	if (i < 0 || array_grow((void **)&f->values, &f->cap, f->lines.n, sizeof(*f->values)))
		return -ENOMEM;
	f->values[i] += value;
	return 0;
}

int64_t folder_find(struct folder *f, const char *text)
{
	return strtab_find(&f->lines, text);
}

void folder_free(struct folder *f)
{
	strtab_free(&f->lines);
	free(f->values);
	free(f->buf);
}

int fold_profile(struct folder *f, const struct profile *p, int m, int prefix)
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
