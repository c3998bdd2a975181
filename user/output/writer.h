/* Writers: each renders a list of profiles (one per report) to a stream. */
#ifndef EBPROF_FORMAT_H
#define EBPROF_FORMAT_H

#include <stdio.h>
#include "model/profile.h"
#include "model/runmeta.h"

#define EBPROF_JSON_SCHEMA "ebprof-profile"
#define EBPROF_JSON_SCHEMA_VERSION 2

struct write_opts {
	int limit;	     /* max rows per table; 0 = all */
	const char *metric;  /* single-metric writers; NULL = profile default */
	const char *callers; /* func report: show callers of this function */
	const char *callees;
	const struct run_meta *run; /* json: the run's facts; NULL: none */
};

/* A writer renders profiles as they are: their tables in the order they
 * have (the run loop sorts them, model/tablesort.h), the call graph their
 * collector built or filled (profile_build_graph for stack profiles).  It
 * derives nothing into them. */
struct writer {
	const char *name; /* "text", "folded", ... */
	const char *desc;
	int one_report; /* renders one report's graph only (one report must be named) */
	/* 0 or negative errno; -EINVAL with a message on err for bad options
	 * (unknown metric, format that cannot render these profiles). */
	int (*write)(FILE *out, const struct profile *const *profiles, size_t n,
		     const struct write_opts *o, FILE *err);
};

const struct writer *writer_find(const char *name);
/* NULL-terminated list for --help. */
const struct writer *const *writer_list(void);

/* Shared by writers: value formatting by unit. */
void fmt_value(char *buf, size_t len, int64_t v, const char *unit);
void fmt_double(char *buf, size_t len, double v, const char *unit);
/* A unit as the profile formats spell it: "nanoseconds" for ns, "bytes",
 * else plain (pprof "count", speedscope "none"). */
const char *writer_unit_name(const char *unit, const char *plain);
/* Index of the metric named, or the default; -1 when unknown (message on err). */
int writer_pick_metric(const struct profile *p, const char *name, FILE *err);

/* Replaces control bytes and any byte in extra (may be NULL) with '?', in
 * place: names come from the target and must not drive a terminal or break
 * a line-based format. */
void fmt_sanitize(char *s, const char *extra);
/* s whole, as fmt_sanitize leaves it, in b (copied there unless s is b's
 * own text, so the profile's strings stay as they are); NULL when s is NULL
 * or b cannot grow.  With pframe_str: fmt_sanitized(b, pframe_str(f, b, 0), x). */
const char *fmt_sanitized(struct strbuf *b, const char *s, const char *extra);
/* s as a JSON string (escaped; bytes that are not UTF-8 as \u00XX), or
 * null for NULL. */
void json_str(FILE *out, const char *s);
/* The one profile with a call graph or samples, for single-graph formats;
 * NULL with a message on err when there is none or more than one. */
const struct profile *writer_one_graph(const struct profile *const *profiles, size_t n,
				       const char *format, FILE *err);

extern const struct writer writer_text, writer_folded, writer_json, writer_callgrind, writer_dot,
	writer_pprof, writer_speedscope, writer_svg;

#endif
