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
	memcpy(&nr, key, sizeof(nr));
	e->id = id;
	e->nr = nr < t->depth ? nr : (uint32_t)t->depth;
	e->ips = malloc((e->nr ? e->nr : 1) * sizeof(uint64_t));
	if (!e->ips)
		return -ENOMEM;
	memcpy(e->ips, key + 8, e->nr * sizeof(uint64_t));
	t->n++;
	return 0;
}

void stacktab_init(struct stacktab *t, size_t depth)
{
	memset(t, 0, sizeof(*t));
	t->depth = depth;
}

#define DRAIN_BATCH 256

/* One entry at a time, for kernels without batch operations on hash
 * maps: the first key left, read, deleted, until none is left. */
static long drain_one_by_one(int fd, struct stacktab *t, uint8_t *key)
{
	long moved = 0;
	uint32_t id;
	int err = 0;

	while (!err && !bpf_map_get_next_key(fd, NULL, key)) {
		if (!bpf_map_lookup_elem(fd, key, &id))
			err = add(t, key, id);
		if (!err && bpf_map_delete_elem(fd, key) && errno != ENOENT)
			err = -errno;
		moved += !err;
	}
	return err ? err : moved;
}

long stacktab_drain(int fd, struct stacktab *t)
{
	size_t ksize = 8 + t->depth * sizeof(uint64_t);
	uint8_t *keys = malloc(DRAIN_BATCH * ksize);
	uint32_t ids[DRAIN_BATCH], batch = 0;
	long moved = 0;
	int err = keys ? 0 : -ENOMEM, first = 1, done = 0;
	size_t before = t->n;

	while (!err && !done) {
		__u32 count = DRAIN_BATCH;

		if (bpf_map_lookup_and_delete_batch(fd, first ? NULL : &batch, &batch, keys, ids,
						    &count, NULL)) {
			err = -errno;
			if (err == -ENOENT) { /* the last batch */
				err = 0;
				done = 1;
			} else {
				/* No batch operations on this kernel, or a bucket
				 * larger than a batch: the rest one by one. */
				long rest = drain_one_by_one(fd, t, keys);

				err = rest < 0 ? (int)rest : 0;
				moved += rest < 0 ? 0 : rest;
				break;
			}
		}
		first = 0;
		for (__u32 i = 0; !err && i < count; i++, moved++)
			err = add(t, keys + i * ksize, ids[i]);
	}
	free(keys);
	if (t->n > before)
		qsort(t->v, t->n, sizeof(*t->v), by_id);
	return err ? err : moved;
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
