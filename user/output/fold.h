/* Folding a stack profile into lines "root;caller;...;leaf" (function
 * names without offsets, ';' in a name as '?', kernel frames with "_[k]"),
 * stacks that differ only in offsets merged, in first-seen order. */
#ifndef EBPROF_FOLD_H
#define EBPROF_FOLD_H

#include <stddef.h>
#include <stdint.h>

#include "model/profile.h"

struct fline {
	char *text;
	int64_t value; /* sum of the metric, in its own unit */
};

struct folder {
	struct fline *lines;
	size_t n, cap;
	uint32_t *slots; /* line index + 1; 0 = empty */
	size_t nslots;	 /* power of two */
	char *buf;	 /* line being built */
	size_t len, bufcap;
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
