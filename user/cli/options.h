/* Command line: every report and option is parsed here, in one place. */
#ifndef EBPROF_OPTIONS_H
#define EBPROF_OPTIONS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define MAX_REPORTS 8
#define MAX_FUNC_PATTERNS 64
#define MAX_ASSERTS 32

enum run_mode {
	MODE_RUN,    /* profile a target */
	MODE_REPORT, /* ebprof report FILE: render a saved profile */
	MODE_DIFF,   /* ebprof diff BEFORE AFTER: compare two saved profiles */
};

struct options {
	enum run_mode mode;
	const char *input;		  /* report: the saved profile; diff: BEFORE */
	const char *input2;		  /* diff: AFTER */
	pid_t pid;			  /* -p; 0 when launching */
	char **argv;			  /* command after "--", NULL-terminated; NULL with -p */
	const char *reports[MAX_REPORTS]; /* named reports, in order */
	int nreports;			  /* 0: every default report */
	double interval;		  /* -i seconds; 0 = no interval tables */
	double duration;		  /* -d seconds; 0 = until target exits / Ctrl-C */
	int frequency;			  /* -F Hz */
	const char *output;		  /* -o FILE, NULL = stdout */
	const char *save;		  /* --save FILE: the whole profile as JSON too */
	const char *format;		  /* text|folded|json|callgrind|dot */
	const char *sort;		  /* -s key, NULL = report default */
	int limit;			  /* -n rows, 0 = all; default 30 for text */
	int limit_set;
	const char *metric;    /* --metric, NULL = report default */
	int verbose;	       /* -v count */
	uint64_t min_block_ns; /* --min-block USEC */
	int unwind;	       /* --unwind: enum unwind_mode (include/unwind.h) */
	int children;	       /* --children: cpu follows the target's descendants */
	int no_demangle;       /* --no-demangle: symbol names as the files spell them */
	/* func report */
	const char *func_patterns[MAX_FUNC_PATTERNS];
	int nfunc_patterns;
	double max_overhead; /* percent of one CPU; 0 disables */
	int count_only;
	int raw_times;		     /* --raw-times: keep the probe cost in times */
	double probe_cost_ns;	     /* --probe-cost: cost of one traced call; 0 = calibrate */
	const char *probe_cost_from; /* "--probe-cost" or "EBPROF_PROBE_COST_NS" */
	const char *callers;	     /* --callers FUNC */
	const char *callees;	     /* --callees FUNC */
	/* net report */
	int stream; /* --stream: one line per event instead of the report */
	/* mem report */
	const char *allocator; /* --allocator LIB; NULL: the one the target binds to */
	uint64_t min_age_ns;   /* --min-age SECONDS: leaks are blocks at least this old */
	/* checks */
	const char *asserts[MAX_ASSERTS]; /* --assert EXPR, in order */
	int calibrate;			  /* --calibrate: time the reference loop (kstones) */
	int nasserts;
};

enum parse_result { PARSE_OK = 0, PARSE_EXIT_OK = 1, PARSE_USAGE = 2 };

/* Parses argv into o.  On a usage error writes one line to err (prefixed
 * "ebprof: ") and returns PARSE_USAGE; --help/--version print to out and
 * return PARSE_EXIT_OK. */
enum parse_result options_parse(int argc, char **argv, struct options *o, FILE *out, FILE *err);
int options_wants_report(const struct options *o, const char *name);
void options_usage(FILE *f);

#endif
