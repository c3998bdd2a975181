/* mem collector: its state, shared by the probe side (mem.c) and the
 * report side (mem_report.c), and the report's entry point. */
#ifndef EBPROF_COLLECT_MEM_REPORT_H
#define EBPROF_COLLECT_MEM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cli/options.h"
#include "model/profile.h"
#include "probe/calibrate.h"
#include "probe/resolve.h"
#include "run/target.h"
#include "util/util.h"

struct mem_bpf;
struct uprobe_set;
struct uprobe_governor;
struct symbolizer;
struct mem_growth;

struct mem_state {
	const struct options *o;
	struct target *t;
	struct mem_bpf *skel;
	struct uprobe_targets tg;	  /* the allocator's functions found */
	struct uprobe_targets cxx;	  /* operator new/delete found (maybe none) */
	const char *allocator;		  /* module they are in */
	struct uprobe_set *allocs;	  /* entry + return: probe i has index i */
	struct uprobe_set *frees;	  /* free(), delete: entry only, detached last */
	size_t nallocs;			  /* probes in allocs; frees' j is nallocs + j */
	size_t nfrees;			  /* probes in frees */
	struct uprobe_governor *gov;	  /* the allocation functions */
	struct uprobe_governor *free_gov; /* free(), from the first detach on */
	int free_gov_tried;
	struct uprobe_cost cost;      /* one allocation call's entry + return probes */
	struct uprobe_cost free_cost; /* one free() entry probe */
	/* What the governor charges per allocation call: cost plus free_cost
	 * times the frees per allocation observed so far. */
	double frees_per_alloc, gov_cost_ns;
	/* The governor's first detach (0: none): when, and the frees of
	 * untracked blocks counted up to then; free()'s detach. */
	uint64_t t_detach, unknown_at_detach, t_free_detach, unknown_at_free_detach;
	struct strlist notes;
	struct symbolizer *sym;	   /* the run's (the target's share), from the first report */
	struct mem_growth *growth; /* outstanding bytes per site over time */
	int ncpus;
	uint64_t t_attach, t_stop; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
};

/* The report's tables and metrics (the command line's -s and --metric). */
extern const struct ptable_def *const mem_tables[];
extern const struct pmetric_def mem_metrics[];
enum {
	MEM_M_ALLOC_BYTES,
	MEM_M_ALLOC_COUNT,
	MEM_M_INUSE_BYTES,
	MEM_M_INUSE_COUNT,
	MEM_M_TEMP_COUNT,
	MEM_M_PEAK_BYTES,
	MEM_METRICS_N
};

/* Reads the maps (never writing them) into a new profile. */
int mem_report(void *state, struct profile **out);

#endif
