/* Folding a stack profile into lines "root;caller;...;leaf" (function
 * names without offsets, ';' in a name as '?', kernel frames with "_[k]"),
 * stacks that differ only in offsets merged, in first-seen order. */
#ifndef EBPROF_FOLD_H
#define EBPROF_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "model/profile.h"
#include "output/strtab.h"

struct folder {
	struct strtab lines; /* lines.v[i]: the i-th line's text */
	int64_t *values;     /* values[i]: its sum of the metric, in its own unit */
	size_t cap;
	struct strbuf line; /* line being built */
	struct strbuf name; /* a frame's name, sanitized */
};

/* Adds p's stacks with a non-zero metric m to f (a zeroed folder to
 * start); with prefix each line starts with the report name.  0 or
 * -ENOMEM. */
int fold_profile(struct folder *f, const struct profile *p, int m, int prefix);
/* The index of the line with this text, or -1. */
int64_t folder_find(struct folder *f, const char *text);
void folder_free(struct folder *f);
/* A value as folded output writes it: "ns" in microseconds (rounded). */
int64_t folded_value(int64_t v, const char *unit);

#endif
