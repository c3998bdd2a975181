/* A collector = one BPF object (bpf/<name>.bpf.c) + one user module
 * (user/<name>.c) behind this interface.  Adding one touches its two files
 * and the registry in collector.c. */
#ifndef EBPROF_COLLECTOR_H
#define EBPROF_COLLECTOR_H

#include "cli/options.h"
#include "model/profile.h"
#include "run/target.h"

struct collector_ops {
	const char *name;  /* report name on the command line */
	const char *desc;  /* one line for --help */
	int default_on;    /* runs when no report is named */
	/* Column keys its tables can be sorted by (-s), space-separated, so a
	 * typo fails before collecting rather than after. */
	const char *sort_keys;
	/* Its metrics, for --metric, space-separated. */
	const char *metrics;
	/* Validate options, open and load BPF.  state is collector-owned.
	 * 0 or negative errno, with one line already printed on failure. */
	int (*open)(void **state, const struct options *o, struct target *t);
	/* Attach probes (before a launched target is released). */
	int (*attach)(void *state);
	/* Called about every 100 ms while collecting (ring buffers, governor). */
	int (*tick)(void *state);
	/* Read maps into a new profile. */
	int (*report)(void *state, struct profile **out);
	void (*close)(void *state);
};

const struct collector_ops *collector_find(const char *name);
const struct collector_ops *const *collector_list(void);
/* 0 when some wanted collector sorts by key; else one line and -EINVAL. */
int collector_check_sort(const struct options *o, const char *key);
/* The same for --metric. */
int collector_check_metric(const struct options *o, const char *name);
/* One line for a collector's BPF object that failed to open (loading 0) or
 * to load into the kernel (loading 1), with the privilege hint on EPERM. */
void collector_bpf_error(const char *name, int loading, int err);

#endif
