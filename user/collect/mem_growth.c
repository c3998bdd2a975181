/* mem collector: growth per site (see mem_growth.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collect/mem_growth.h"
#include "mem.h"
#include "util/bpfmap.h"
#include "util/util.h"

struct gsite {
	uint64_t id;
	int64_t last;		 /* outstanding bytes at the last sample */
	int64_t base;		 /* before the first rise */
	uint64_t t_base, t_last; /* when base and last were sampled */
	uint32_t rises, falls;
};

struct mem_growth {
	uint64_t period, t_prev; /* t_prev: the last sample, 0 none */
	size_t samples;
	struct gsite *v;
	size_t n, cap, sorted; /* v[0..sorted) in id order */
};

static int cmp_gsite(const void *a, const void *b)
{
	uint64_t x = ((const struct gsite *)a)->id, y = ((const struct gsite *)b)->id;

	return x < y ? -1 : x > y;
}

struct mem_growth *mem_growth__new(uint64_t period_ns)
{
	struct mem_growth *g = calloc(1, sizeof(*g));

	if (g)
		g->period = period_ns ? period_ns : MEM_GROWTH_PERIOD_NS;
	return g;
}

void mem_growth__free(struct mem_growth *g)
{
	if (!g)
		return;
	free(g->v);
	free(g);
}

static struct gsite *find(const struct mem_growth *g, uint64_t id)
{
	struct gsite key = { .id = id };

	return bsearch(&key, g->v, g->sorted, sizeof(*g->v), cmp_gsite);
}

/* One site's new value: a site first seen now was at 0 at the last
 * sample. */
static int update(struct mem_growth *g, uint64_t id, int64_t cur, uint64_t t)
{
	struct gsite *s = find(g, id);

	if (!s) {
		if (array_grow((void **)&g->v, &g->cap, g->n + 1, sizeof(*g->v)))
			return -ENOMEM;
		s = &g->v[g->n++];
		memset(s, 0, sizeof(*s));
		s->id = id;
		s->t_base = s->t_last = g->t_prev ? g->t_prev : t;
	}
	if (cur > s->last) {
		if (!s->rises) {
			s->base = s->last;
			s->t_base = s->t_last;
		}
		s->rises++;
	} else if (cur < s->last && s->rises) {
		s->falls++;
	}
	s->last = cur;
	s->t_last = t;
	return 0;
}

int mem_growth__tick(struct mem_growth *g, int sites_fd, uint64_t t, int force)
{
	struct mem_site v;
	uint64_t id;
	int started = 0, err = 0;

	if (!g || (!force && g->t_prev && t - g->t_prev < g->period))
		return 0;
	while (!err && map_next_entry(sites_fd, &id, sizeof(id), &started, &v))
		err = update(g, id, v.cur_bytes, t);
	/* Sites gone from the map (none are deleted today) stay as they
	 * were. */
	qsort(g->v, g->n, sizeof(*g->v), cmp_gsite);
	g->sorted = g->n;
	g->t_prev = t;
	g->samples++;
	return err;
}

void mem_growth__site(const struct mem_growth *g, uint64_t id, struct mem_growth_site *out)
{
	const struct gsite *s = g ? find(g, id) : NULL;

	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	out->rises = s->rises;
	out->falls = s->falls;
	out->growing = s->rises >= MEM_GROWTH_MIN_RISES && !s->falls;
	if (out->growing && s->t_last > s->t_base)
		out->bytes_per_s = (double)(s->last - s->base) * 1e9 /
				   (double)(s->t_last - s->t_base);
}

size_t mem_growth__samples(const struct mem_growth *g)
{
	return g ? g->samples : 0;
}

uint64_t mem_growth__period(const struct mem_growth *g)
{
	return g ? g->period : 0;
}
