/* Probe layer: what the probes of one call cost on this machine, measured
 * on a function of ebprof's own with the set's programs placed the way
 * the set places them, or given by the user (--probe-cost,
 * EBPROF_PROBE_COST_NS). */
#ifndef EBPROF_PROBE_CALIBRATE_H
#define EBPROF_PROBE_CALIBRATE_H

#include <stdint.h>

struct uprobe_set;
struct uprobe_calib;
struct strlist;

/* Used when calibration fails: a uprobe+uretprobe pair as measured on
 * kernels with perf-event based uprobes (the report says it is assumed). */
#define UPROBE_ASSUMED_COST_NS 10000.0

/* What a collector's BPF side timed of the calibration calls, between its
 * entry and return timestamps: cumulative ns and finished calls of the
 * calibration cookie.  0 or negative errno. */
struct uprobe_inside {
	int (*read)(void *ctx, uint64_t *ns, uint64_t *calls);
	void *ctx;
};

struct uprobe_cost {
	double ns; /* one call's probes (entry, and return if any) */
	/* The part of ns that falls inside the call's own timed interval (the
	 * rest lands only in its caller's); 0 when not measured. */
	double inside_ns;
	double measured_ns;	      /* what calibration measured (0: it failed) */
	const char *source;	      /* "calibrated", "assumed", or the override's name */
	struct uprobe_calib *pending; /* calibration probes still coming off */
};

/* Sets c: measured with s's programs (loaded, not yet attached), with
 * cookie id, the inner part read through inside (NULL: not measured);
 * override_ns when > 0 replaces the measured cost (source override_from,
 * the inner part scaled to it); when measuring fails,
 * UPROBE_ASSUMED_COST_NS with a note in notes saying so. */
void uprobe_cost_get(struct uprobe_cost *c, const struct uprobe_set *s, uint32_t cookie,
		     const struct uprobe_inside *inside, double override_ns,
		     const char *override_from, struct strlist *notes);
/* Waits until the calibration probes are gone. */
void uprobe_cost_wait(struct uprobe_cost *c);

/* Times calls of a function in ebprof itself without probes and with s's
 * probes placed on it (cookie id); returns the cost of one call's probes
 * in ns via *cost_ns, and via *inside_ns the part of it the BPF side timed
 * inside the call (read through inside; 0 when not measured), and via
 * *mean_ns (may be NULL) the cost from the rounds' mean rather than their
 * lower quartile: what calls cost while the machine is busy.  The probes
 * come off in the background: on success *pending is for
 * uprobe_calib_wait().  0 or negative errno. */
int uprobe_calibrate(const struct uprobe_set *s, uint32_t cookie,
		     const struct uprobe_inside *inside, double *cost_ns, double *inside_ns,
		     double *mean_ns, struct uprobe_calib **pending);
/* Waits until the calibration probes are gone (NULL: nothing to wait for). */
void uprobe_calib_wait(struct uprobe_calib *c);

#endif
