/* mem collector: growth ("does calling this make memory grow").  Every
 * sample period the outstanding bytes of each site are read from the
 * sites map; per site only a running summary is kept (its value before
 * it first rose, the intervals it rose and fell in), so the cost does
 * not grow with the run.  A site is growing when its outstanding bytes
 * rose in at least MEM_GROWTH_MIN_RISES intervals and never fell since
 * they first rose; its rate is the rise over that time. */
#ifndef EBPROF_COLLECT_MEM_GROWTH_H
#define EBPROF_COLLECT_MEM_GROWTH_H

#include <stddef.h>
#include <stdint.h>

#define MEM_GROWTH_MIN_RISES 3
/* Sample period without -i (with it: the interval). */
#define MEM_GROWTH_PERIOD_NS 1000000000ull

struct mem_growth;

/* One site's verdict. */
struct mem_growth_site {
	uint32_t rises, falls; /* intervals its outstanding bytes rose / fell in */
	int growing;
	double bytes_per_s; /* growing: the rise per second since it began */
};

struct mem_growth *mem_growth__new(uint64_t period_ns);
/* Samples the sites map (site id -> struct mem_site) when a period has
 * passed since the last sample, or always when force is set; t is
 * now_ns().  0 or negative errno. */
int mem_growth__tick(struct mem_growth *g, int sites_fd, uint64_t t, int force);
/* The verdict for site id (zeroed when never sampled). */
void mem_growth__site(const struct mem_growth *g, uint64_t id, struct mem_growth_site *out);
size_t mem_growth__samples(const struct mem_growth *g);
uint64_t mem_growth__period(const struct mem_growth *g);
void mem_growth__free(struct mem_growth *g);

#endif
