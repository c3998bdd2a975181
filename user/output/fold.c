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

/* Adds value to the line in f->line. */
static int fold(struct folder *f, int64_t value)
{
	int64_t i = strtab_add(&f->lines, f->line.s);

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
	strbuf_free(&f->line);
	strbuf_free(&f->name);
}

int fold_profile(struct folder *f, const struct profile *p, int m, int prefix)
{
	int r = 0;
	for (size_t i = 0; i < p->nsamples && !r; i++) {
		const struct psample *s = &p->samples[i];
		if (!s->values[m] || !s->nframes)
			continue;
		strbuf_reset(&f->line);
		if (prefix &&
		    ((r = strbuf_add(&f->line, p->report)) || (r = strbuf_add(&f->line, ";"))))
			break;
		for (uint32_t k = 0; k < s->nframes && !r; k++) {
			const struct pframe *fr = &p->frames[s->frames[k]];
			const char *name = fmt_sanitized(&f->name, pframe_str(fr, &f->name, 0),
							 ";");
			if (!name)
				r = -ENOMEM;
			if (!r && k)
				r = strbuf_add(&f->line, ";");
			if (!r)
				r = strbuf_add(&f->line, name);
			if (!r && fr->kind == FRAME_KERNEL)
				r = strbuf_add(&f->line, "_[k]");
		}
		if (!r)
			r = fold(f, s->values[m]);
	}
	return r;
}
