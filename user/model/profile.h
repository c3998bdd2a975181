/* The profile model: a set of stacks with values, a call graph, plain
 * tables, and report-level facts.  Every collector fills one profile per
 * report; every writer renders profiles and never talks to a collector. */
#ifndef EBPROF_PROFILE_H
#define EBPROF_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

#define PROFILE_MAX_METRICS 8

enum frame_kind {
	FRAME_USER = 0,
	FRAME_KERNEL = 1,
	FRAME_MARKER = 2, /* synthetic: "[off-cpu]", "[in-flight]", ... */
};

struct pframe {
	char *func;	 /* NULL when unknown: shown as module+0xoffset */
	char *module;	 /* basename of the file, "[kernel]", or NULL */
	uint64_t offset; /* offset in module when func is NULL, else in func */
	uint8_t kind;	 /* enum frame_kind */
};

struct psample {
	uint32_t *frames; /* indices into profile.frames, ROOT FIRST */
	uint32_t nframes;
	int64_t values[PROFILE_MAX_METRICS];
};

struct pmetric {
	char *name; /* "oncpu", "offcpu", "wall", "time", "calls" */
	char *unit; /* "samples", "ns", "count", "bytes" */
	char *desc;
};

/* Call graph: one node per function, edges caller->callee.  Collectors that
 * measure calls exactly (func) fill it directly; for stack profiles
 * profile_build_graph() derives it from the samples. */
struct pnode {
	uint32_t frame; /* index into profile.frames */
	int64_t self[PROFILE_MAX_METRICS];
	int64_t total[PROFILE_MAX_METRICS]; /* inclusive, recursion counted once */
	uint64_t calls;			    /* 0 when unknown (sampled profiles) */
};

struct pedge {
	uint32_t caller, callee;	    /* node indices */
	uint64_t calls;			    /* 0 when unknown */
	int64_t total[PROFILE_MAX_METRICS]; /* inclusive cost of callee via this edge */
};

enum col_type { COL_STR, COL_INT, COL_DOUBLE };

/* Column units drive text formatting: "ns" is shown as a scaled duration,
 * "%" as a percentage, "bytes" scaled, anything else as a plain number; a
 * string column with unit "count" holds numbers ("3/1") and aligns right. */
struct pcol {
	char *key;    /* stable name: json key and -s sort key */
	char *header; /* text header */
	char *unit;   /* "ns", "%", "bytes", "count", "" */
	enum col_type type;
	int text_hidden; /* kept for sorting and json, left out of text tables */
	int sort_as;	 /* 1 + the column whose values order this one; 0: itself */
	int text_skip;	 /* an int column: text tables leave out the rows where it is
			  * nonzero (json and every other use keep them) */
};

union pcell {
	int64_t i;
	double d;
	char *s;
};

struct ptable {
	char *name;  /* "functions", "threads", ... */
	char *title; /* human heading */
	struct pcol *cols;
	size_t ncols;
	union pcell *cells; /* nrows * ncols, row major */
	size_t nrows, cap;
	int sort_col; /* default sort column, descending; -1 none */
	int sort_asc; /* default ascending instead */
};

enum info_type { INFO_INT, INFO_DOUBLE, INFO_STR };

struct pinfo {
	char *key;
	char *label; /* human label for text output */
	char *unit;  /* as for columns */
	enum info_type type;
	union pcell v;
};

struct profile {
	char *report; /* "cpu", "func", ... */
	char *title;

	struct pmetric metrics[PROFILE_MAX_METRICS];
	size_t nmetrics;
	int default_metric; /* index used by single-metric writers */

	struct pframe *frames;
	size_t nframes, frames_cap;
	void *frame_index; /* private hash: frame -> index */

	struct psample *samples;
	size_t nsamples, samples_cap;
	void *sample_index; /* private hash: stack -> sample */

	struct pnode *nodes;
	size_t nnodes, nodes_cap;
	struct pedge *edges;
	size_t nedges, edges_cap;

	struct ptable **tables;
	size_t ntables;

	struct pinfo *info;
	size_t ninfo;

	struct strlist notes; /* warnings and events worth a line: detached probes, ... */
};

/* Static definitions of a report's tables and metrics.  A collector
 * declares them once; they build its profile's tables (profile_table_def)
 * and metrics (profile_add_metric_defs), and the command line takes its
 * sort keys (-s) and metric names (--metric) from the same lists, so a
 * column exists in one place only. */
struct pcol_def {
	const char *key, *header;
	const char *unit; /* NULL: the unit of the table's metric (functable) */
	enum col_type type;
	int text_hidden;    /* as pcol.text_hidden */
	int sort_as;	    /* as pcol.sort_as: 1 + the column whose values order this one */
	const char *metric; /* functable: the column holds this metric's inclusive value */
	int text_skip;	    /* as pcol.text_skip */
};

struct ptable_def {
	const char *name, *title;
	const struct pcol_def *cols;
	size_t ncols;
	int sort_col; /* default sort column, -1 none */
	int sort_asc;
};

struct pmetric_def {
	const char *name, *unit, *desc;
};

/* The symbolizer's module name for an address in no mapping: profile_frame
 * stores such a frame with no module. */
#define PROFILE_UNKNOWN_MODULE "[unknown]"

struct profile *profile_new(const char *report, const char *title);
void profile_free(struct profile *p);

/* Returns metric index or negative errno. */
int profile_add_metric(struct profile *p, const char *name, const char *unit, const char *desc);
int profile_metric_index(const struct profile *p, const char *name);
/* Sum of metric m over the profile: samples when present, else node self. */
int64_t profile_metric_total(const struct profile *p, int m);
/* v as a percentage of total (0 when total is not positive). */
static inline double profile_pct(int64_t v, int64_t total)
{
	return total > 0 ? 100.0 * (double)v / (double)total : 0.0;
}

/* Interns a frame; returns its index (>= 0) or negative errno. */
int64_t profile_frame(struct profile *p, enum frame_kind kind, const char *func, const char *module,
		      uint64_t offset);

/* Adds values to the sample with this exact stack (root first), creating it
 * when new.  values has p->nmetrics entries. */
int profile_add_sample(struct profile *p, const uint32_t *frames, uint32_t nframes,
		       const int64_t *values);

/* Derives nodes and edges from the samples (self = leaf, total = every stack
 * containing the function, counted once per stack).  Replaces any graph. */
int profile_build_graph(struct profile *p);
/* The node that the last profile_build_graph() gave a sample's frame (its
 * function's node: frames at other offsets share it), or -1. */
int64_t profile_frame_node(const struct profile *p, uint32_t frame);
int64_t profile_node(struct profile *p, uint32_t frame); /* find or add */
int64_t profile_edge(struct profile *p, uint32_t caller, uint32_t callee);

/* Tables */
struct ptable *profile_table(struct profile *p, const char *name, const char *title);
/* A new table with def's name, title, columns and default sort; units left
 * NULL in def take metric_unit (may be NULL).  NULL on failure. */
struct ptable *profile_table_def(struct profile *p, const struct ptable_def *def,
				 const char *metric_unit);
/* Adds n metrics in order (their indices are 0..n-1 on a new profile);
 * 0 or negative errno. */
int profile_add_metric_defs(struct profile *p, const struct pmetric_def *m, size_t n);
int ptable_add_col(struct ptable *t, const char *key, const char *header, const char *unit,
		   enum col_type type);
/* Appends a zeroed row; returns its index or negative errno. */
int64_t ptable_add_row(struct ptable *t);
/* Keeps a column out of text tables (e.g. an integer sort key shown
 * through a formatted string column). */
void ptable_hide_col(struct ptable *t, size_t col);
/* Text tables leave out the rows where int column col is nonzero. */
void ptable_skip_rows_by(struct ptable *t, size_t col);
/* Whether text tables leave out row r (a text_skip column nonzero). */
int ptable_text_skips(const struct ptable *t, size_t r);
/* Sorting by col orders rows by column by instead (a formatted string
 * column, "177/1", sorted by the number behind it). */
void ptable_sort_as(struct ptable *t, size_t col, size_t by);
union pcell *ptable_cell(struct ptable *t, size_t row, size_t col);
int ptable_set_str(struct ptable *t, size_t row, size_t col, const char *s);
int ptable_col_index(const struct ptable *t, const char *key); /* by key; -ENOENT */
/* Sorts rows by column (descending unless asc); strings always ascending. */
void ptable_sort(struct ptable *t, int col, int asc);
struct ptable *profile_find_table(const struct profile *p, const char *name);
/* The profile of the report named, among n; NULL when none. */
const struct profile *profile_find_report(const struct profile *const *p, size_t n,
					  const char *name);

/* Report-level facts */
int profile_info_int(struct profile *p, const char *key, const char *label, const char *unit,
		     int64_t v);
int profile_info_double(struct profile *p, const char *key, const char *label, const char *unit,
			double v);
int profile_info_str(struct profile *p, const char *key, const char *label, const char *v);
const struct pinfo *profile_get_info(const struct profile *p, const char *key);
int profile_note(struct profile *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A frame's name, whole: its function (f->func itself, not a copy) when
 * there is nothing to add, else "module+0x1a2b", "0xdead" or with
 * with_offset "func+0x10" formatted into b (replacing what b held).  NULL
 * when b cannot grow.  A writer that changes the name sanitizes a copy
 * (fmt_sanitized, output/writer.h). */
const char *pframe_str(const struct pframe *f, struct strbuf *b, int with_offset);

#endif
