/* A collector = one BPF object (bpf/<name>.bpf.c) + one user module
 * (user/collect/<name>.c) behind this interface.  Adding one touches those
 * files, its shared header include/<name>.h, and the registry in
 * collector.c (docs/ARCHITECTURE.md). */
#ifndef EBPROF_COLLECTOR_H
#define EBPROF_COLLECTOR_H

#include "cli/options.h"
#include "model/profile.h"
#include "run/target.h"

struct collector_ops {
	const char *name; /* report name on the command line */
	const char *desc; /* one line for --help */
	int default_on;	  /* runs when no report is named */
	/* Every table its report can have, NULL-terminated: their column
	 * keys are the -s sort keys, checked before collecting. */
	const struct ptable_def *const *tables;
	/* Its metrics (--metric), in profile order. */
	const struct pmetric_def *metrics;
	size_t nmetrics;
	int default_metric; /* index into metrics */
	/* A running target (-p): attached as soon as its object is loaded,
	 * before the later collectors' load, because its first tick can wait
	 * that long (its data waits in maps; no governor).  Else attached
	 * after every load, as all are for a launched command. */
	int attach_at_load;
	/* Validate options, open and load BPF.  state is collector-owned.
	 * 0 or negative errno, with one line already printed on failure. */
	int (*open)(void **state, const struct options *o, struct target *t);
	/* Attach probes (before a launched target is released; the target's
	 * unwind tables are ready). */
	int (*attach)(void *state);
	/* Called about every 100 ms while collecting (ring buffers, governor).
	 * Returns 1 to end collection (its stream's reader has gone). */
	int (*tick)(void *state);
	/* Stops collecting (NULL: nothing to stop), so that the final
	 * report is one consistent snapshot. */
	void (*stop)(void *state);
	/* Reads the maps into a new profile.  May be called more than once,
	 * while collecting (a snapshot) and after stop (the final report). */
	int (*report)(void *state, struct profile **out);
	void (*close)(void *state);
};

const struct collector_ops *collector_find(const char *name);
const struct collector_ops *const *collector_list(void);
/* 0 when some wanted collector sorts by key; else one line and -EINVAL. */
int collector_check_sort(const struct options *o, const char *key);
/* The same for --metric. */
int collector_check_metric(const struct options *o, const char *name);
/* Writes c's sort keys (the columns of every table, each once) or
 * its metric names, separated by sep, to f. */
void collector_print_sort_keys(FILE *f, const struct collector_ops *c, const char *sep);
void collector_print_metrics(FILE *f, const struct collector_ops *c, const char *sep);
/* One line for a collector's BPF object that failed to open (loading 0) or
 * to load into the kernel (loading 1), with the privilege hint on EPERM. */
void collector_bpf_error(const char *name, int loading, int err);

#endif
