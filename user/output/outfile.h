/* Where a report goes: stdout, or -o FILE written through a temporary file
 * next to it that is renamed into place once complete, so a reader never
 * sees half a report and a failed run leaves the old file as it was. */
#ifndef EBPROF_OUTFILE_H
#define EBPROF_OUTFILE_H

#include <stdio.h>

struct outfile {
	const char *path; /* NULL: stdout */
	char tmp[4096];
	FILE *f;
};

/* 0 when path (NULL: stdout) can be written: its directory exists and is
 * writable, and path is not a directory.  Else one line and a negative
 * errno: a run checks this before it collects for minutes. */
int outfile_check(const char *path);
/* Opens the temporary file (or takes stdout); 0 or negative errno with one
 * line printed. */
int outfile_open(struct outfile *o, const char *path);
/* Flushes and, for a file, renames it into place when err is 0, else
 * removes it.  Returns err, or the error of finishing the file (one line
 * printed; -EINVAL, a usage error already reported, prints nothing). */
int outfile_close(struct outfile *o, int err);

#endif
