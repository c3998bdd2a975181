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

int64_t folder_find(struct folder *f, const char *text)
{
	if (!f->nslots)
		return -1;
	for (size_t j = hash_text(text) & (f->nslots - 1); f->slots[j];
	     j = (j + 1) & (f->nslots - 1))
		if (strcmp(f->lines[f->slots[j] - 1].text, text) == 0)
			return f->slots[j] - 1;
	return -1;
}

void folder_free(struct folder *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->lines[i].text);
	free(f->lines);
	free(f->slots);
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
