/* The func collector's user half: pattern resolution (func_resolve.c),
 * latency percentiles (func_hist.c), probe cost calibration and the
 * overhead governor (func_governor.c), the collector itself (func.c). */
#ifndef EBPROF_FUNC_USER_H
#define EBPROF_FUNC_USER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "run/collector.h"
#include "probe/uprobe_set.h"
/* The structs and limits shared with bpf/func.bpf.c (same file name). */
#include "func.h"
#include "run/target.h"
#include "util/util.h"

extern const struct collector_ops func_collector;

/* ---- pattern resolution ---- */

/* One function to trace. */
struct func_target {
	char *name;     /* symbol name */
	char *module;   /* basename of the file */
	char *path;     /* file to attach to, as ebprof sees it */
	uint64_t offset; /* file offset of the entry (what uprobes take) */
};

struct func_targets {
	struct func_target *v;
	size_t n, cap;
	size_t dropped;   /* matches beyond FUNC_MAX_FUNCS, not traced */
	struct strlist notes; /* facts for the report ("fell back to .dynsym"), each once */
};

/* Where the target's files are: pid for /proc/PID/{maps,root}, exe, and
 * whether it is launched but not yet exec'd (libraries then come from the
 * executable's DT_NEEDED and the library search path). */
struct func_where {
	pid_t pid;
	const char *exe;      /* as the target names it (module name, DT_NEEDED) */
	const char *exe_open; /* as ebprof opens and probes it */
	int launched;
};

/* Resolves every pattern (GLOB over the executable's functions, or
 * LIB:GLOB over a shared library's) into out, deduplicated by file and
 * offset.  On failure prints one line and returns a negative errno:
 * -ENOENT (no match, with close matches named; library not found),
 * -EACCES/-EIO (unreadable binary). */
int func_resolve(const struct func_where *w, const char *const *patterns,
		 size_t npatterns, struct func_targets *out);
void func_targets_free(struct func_targets *t);

/* Splits "LIB:GLOB" (1, *lib and *glob point into buf) or plain GLOB (0,
 * *lib NULL).  "a::b" is a plain glob. */
int func_split_pattern(const char *pattern, char *buf, size_t len,
		       const char **lib, const char **glob);
/* 1 when the file at path is the library named want: a path, a file name
 * ("libc.so.6"), or a short name ("libc", "c") matching "libc.so*" or
 * "libc-*.so". */
int func_lib_matches(const char *path, const char *want);
/* 1 when a uprobe cannot be placed on the instruction starting at b (n
 * bytes of it at most): on x86-64 a lock or ES/CS/SS/DS prefix, or a VEX
 * encoding.  Matching functions that start so are left out, with a note,
 * rather than failing the whole attach. */
int func_insn_unprobeable(const uint8_t *b, size_t n);
/* Levenshtein distance, capped at 255. */
unsigned func_edit_distance(const char *a, const char *b);
/* Writes up to max names from names[] that look like glob (substring of the
 * glob's literal text, or small edit distance), best first, as
 * "a, b, c" into buf.  Returns how many were written. */
size_t func_suggest(const char *glob, const char *const *names, size_t n,
		    char *buf, size_t len, size_t max);

/* ---- histogram ---- */

/* Value at percentile pct (0..100) of a log-linear histogram (include/
 * func.h buckets), interpolated within its bucket and clamped to
 * [min, max].  0 when empty. */
uint64_t func_hist_percentile(const uint64_t *buckets, size_t nbuckets,
			      double pct, uint64_t min, uint64_t max);

/* ---- overhead governor ---- */

/* Times calls of a function in ebprof itself without probes and with
 * probes placed the way kind places them (from entry and ret, ret NULL for
 * entry probes only, cookie id); returns the cost of one call's probes in
 * ns via *cost_ns.  The probes come off in the background: on success
 * *pending (maybe NULL) is for func_calib_wait().  0 or negative errno. */
struct bpf_program;
struct func_calib;
int func_calibrate(const struct bpf_program *entry, const struct bpf_program *ret,
		   enum func_attach_kind kind, uint32_t id, double *cost_ns,
		   struct func_calib **pending);
/* Waits until the calibration probes are gone (NULL: nothing to wait for). */
void func_calib_wait(struct func_calib *c);

/* One traced function as the governor sees it. */
struct func_rate {
	double hits_per_s; /* entry probe hits per second, last interval */
	int attached;
};

/* Estimated overhead in percent of one CPU of the attached functions. */
double func_overhead_pct(const struct func_rate *r, size_t n, double cost_ns);
/* Picks the functions to detach, hottest first, until the estimate is at
 * most budget_pct; writes their indices to pick (room for n) and returns
 * how many. */
size_t func_governor_pick(const struct func_rate *r, size_t n, double cost_ns,
			  double budget_pct, size_t *pick);

#endif
