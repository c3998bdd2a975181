/* Interned strings (open addressing on an FNV-1a hash). */
#include "output/strtab.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int grow(struct strtab *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 256;
	uint32_t *s = calloc(n, sizeof(*s));

	if (!s)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = hash(t->v[i]) & (n - 1);

		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = n;
	return 0;
}

int64_t strtab_add(struct strtab *t, const char *s)
{
	int64_t i = strtab_find(t, s);
	size_t j;

	if (i >= 0)
		return i;
	if ((t->n + 1) * 2 > t->nslots && grow(t))
		return -1;
	for (j = hash(s) & (t->nslots - 1); t->slots[j]; j = (j + 1) & (t->nslots - 1))
		;
	if (array_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)) ||
	    !(t->v[t->n] = strdup(s)))
		return -1;
	t->slots[j] = (uint32_t)t->n + 1;
	return (int64_t)t->n++;
}

int64_t strtab_find(const struct strtab *t, const char *s)
{
	if (!t->nslots)
		return -1;
	for (size_t j = hash(s) & (t->nslots - 1); t->slots[j]; j = (j + 1) & (t->nslots - 1))
		if (!strcmp(t->v[t->slots[j] - 1], s))
			return t->slots[j] - 1;
	return -1;
}

void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
