/* A saved profile (`--format json`, schema ebprof-profile version
 * EBPROF_JSON_SCHEMA_VERSION, docs/FORMATS.md) read back into the same
 * profiles a live run makes, so every writer renders it again offline.
 * The file is untrusted input: anything that does not hold together is one
 * error line and -EINVAL, never a crash or a half-built profile. */
#ifndef EBPROF_SAVED_H
#define EBPROF_SAVED_H

#include <stddef.h>

#include "model/profile.h"
#include "model/runmeta.h"

struct saved_run {
	struct profile **profiles; /* one per report, in file order */
	size_t n;
	struct run_meta run; /* fields NULL when the file has none */
};

/* Parses len bytes named name (for the error line) into out; 0, or a
 * negative errno with one line printed and out left empty. */
int saved_run_parse(const char *data, size_t len, const char *name, struct saved_run *out);
/* Reads and parses the file at path. */
int saved_run_load(const char *path, struct saved_run *out);
void saved_run_free(struct saved_run *s);

#endif
