/* A BPF frames map -> stacks by id (see stacktab.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "symbols/stacktab.h"
#include "util/util.h"

static int by_id(const void *a, const void *b)
{
	uint32_t x = ((const struct stacktab_entry *)a)->id;
	uint32_t y = ((const struct stacktab_entry *)b)->id;

	return x < y ? -1 : x > y;
}

/* Adds the entry of one key (8 bytes of nr and kind, then the ips). */
static int add(struct stacktab *t, const uint8_t *key, uint32_t id)
{
	struct stacktab_entry *e;
	uint32_t nr;

	if (array_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)))
		return -ENOMEM;
	e = &t->v[t->n];
	e->ips = malloc(t->depth * sizeof(uint64_t));
	if (!e->ips)
		return -ENOMEM;
	memcpy(&nr, key, sizeof(nr));
	e->id = id;
	e->nr = nr < t->depth ? nr : (uint32_t)t->depth;
	memcpy(e->ips, key + 8, t->depth * sizeof(uint64_t));
	t->n++;
	return 0;
}

int stacktab_read(int fd, size_t depth, struct stacktab *t)
{
	size_t ksize = 8 + depth * sizeof(uint64_t);
	uint8_t *key = calloc(1, ksize), *prev = calloc(1, ksize);
	int err = key && prev ? 0 : -ENOMEM, first = 1;
	uint32_t id;

	memset(t, 0, sizeof(*t));
	t->depth = depth;
	while (!err && !bpf_map_get_next_key(fd, first ? NULL : prev, key)) {
		first = 0;
		memcpy(prev, key, ksize);
		if (!bpf_map_lookup_elem(fd, key, &id)) /* else deleted in between */
			err = add(t, key, id);
	}
	free(key);
	free(prev);
	if (err)
		stacktab_free(t);
	else
		qsort(t->v, t->n, sizeof(*t->v), by_id);
	return err;
}

size_t stacktab_get(const struct stacktab *t, int id, const uint64_t **ips)
{
	struct stacktab_entry k = { .id = (uint32_t)id }, *e;

	if (id < 0 || !t->n)
		return 0;
	e = bsearch(&k, t->v, t->n, sizeof(*t->v), by_id);
	if (!e)
		return 0;
	*ips = e->ips;
	return e->nr;
}

void stacktab_free(struct stacktab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].ips);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
