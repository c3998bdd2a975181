/* What a run was, besides its reports: the facts a saved profile keeps
 * (command line, target, kernel, ebprof version, duration). */
#ifndef EBPROF_RUNMETA_H
#define EBPROF_RUNMETA_H

#include <stdint.h>

struct run_meta {
	char *command;	     /* ebprof's command line, words joined by spaces */
	char *target;	     /* "pid 1234 (comm)" or the launched command */
	char *kernel;	     /* kernel release (uname -r) */
	char *version;	     /* ebprof version that collected it */
	int64_t duration_ns; /* collection time */
};

/* Joins n words with single spaces into a new string; NULL on -ENOMEM. */
char *run_meta_join(char *const *words, int n);
/* Frees the strings of m (not m) and zeroes it. */
void run_meta_free(struct run_meta *m);

#endif
