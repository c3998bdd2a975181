/* A stream of records for pipes and files (net --stream): one line per
 * record, TSV with one header line or JSON Lines, flushed as each is
 * written so `| grep`, `> file` and `tail -f` see it at once.  -o FILE is
 * written as it goes (no temporary file).  A closed reader (EPIPE) ends
 * the stream quietly: the caller stops collecting and exits with 0. */
#ifndef EBPROF_STREAM_H
#define EBPROF_STREAM_H

#include <stddef.h>
#include <stdint.h>

enum stream_format { STREAM_TSV, STREAM_JSONL };

enum stream_type { SF_STR, SF_INT, SF_DOUBLE };

/* One field of a record; every record of a stream has the same keys in
 * the same order (the TSV header is taken from the first). */
struct stream_field {
	const char *key;
	enum stream_type type;
	union {
		const char *s; /* sanitized here: TSV gets '?' for tabs and control bytes */
		int64_t i;
		double d;
	};
};

struct stream;

/* path NULL: stdout.  0 or negative errno, one line printed. */
int stream__new(const char *path, enum stream_format fmt, struct stream **out);
/* Writes one record.  0, or -EPIPE once the reader has gone (quietly;
 * later writes do nothing), or another negative errno with one line. */
int stream__write(struct stream *s, const struct stream_field *f, size_t n);
/* A line saying n records were lost in total so far (TSV: a '#' comment;
 * JSONL: {"event": "lost", "count": n}). */
int stream__lost(struct stream *s, uint64_t n);
/* 1 once the reader has gone. */
int stream__closed(const struct stream *s);
void stream__free(struct stream *s);

#endif
