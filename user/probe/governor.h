/* Probe layer: the overhead governor.  Each tick it reads every probe's
 * hit count from the caller's BPF stats map, turns them into rates, and
 * when the estimated cost (rate x probe cost) exceeds the budget
 * (--max-overhead) detaches the hottest probes, with a note for each. */
#ifndef EBPROF_PROBE_GOVERNOR_H
#define EBPROF_PROBE_GOVERNOR_H

#include <stddef.h>
#include <stdint.h>

struct uprobe_set;
struct strlist;
struct uprobe_governor;

/* One probe as the governor sees it. */
struct uprobe_rate {
	double hits_per_s; /* entry probe hits per second, last interval */
	int attached;
};

/* Estimated overhead in percent of one CPU of the attached probes. */
double uprobe_overhead_pct(const struct uprobe_rate *r, size_t n, double cost_ns);
/* Picks the probes to detach, hottest first, until the estimate is at
 * most budget_pct; writes their indices to pick (room for n) and returns
 * how many. */
size_t uprobe_governor_pick(const struct uprobe_rate *r, size_t n, double cost_ns,
			    double budget_pct, size_t *pick);

struct uprobe_governor_opts {
	const char *name;	/* the collector, for verbose lines */
	struct uprobe_set *set; /* attached */
	/* Per-CPU array: key i holds probe i's counters, value_size bytes
	 * with the entry hit count (__u64) at count_off. */
	int stats_fd;
	size_t value_size, count_off;
	uint32_t stats_base; /* probe i's key is stats_base + i */
	double cost_ns;	     /* one call's probes */
	double budget_pct;   /* percent of one CPU; <= 0: never detach */
	/* BPF-side flags per probe index (may be NULL), set before a probe
	 * is detached so its hits stop counting at once. */
	uint8_t *detached;
	struct strlist *notes; /* detach notes go here */
};

/* Starts governing o->set, whose probes are attached (the hit counts so
 * far are the baseline of the first interval).  NULL with
 * errno set and one line printed. */
struct uprobe_governor *uprobe_governor__new(const struct uprobe_governor_opts *o);
/* One interval: rates, the peak estimate, detaching when over budget.
 * Intervals shorter than 50 ms are skipped.  g NULL (never started) is
 * allowed here and by the two getters (0). */
void uprobe_governor__tick(struct uprobe_governor *g);
/* Replaces the cost of one call's probes from the next tick on (a
 * collector that measures it as the run goes). */
void uprobe_governor__set_cost(struct uprobe_governor *g, double cost_ns);
/* Highest interval estimate so far, percent of one CPU. */
double uprobe_governor__peak_pct(const struct uprobe_governor *g);
/* Probes detached so far. */
size_t uprobe_governor__ndetached(const struct uprobe_governor *g);
void uprobe_governor__free(struct uprobe_governor *g);

#endif
