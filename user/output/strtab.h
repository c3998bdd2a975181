/* Interned strings numbered in first-seen order: pprof's string table,
 * speedscope's shared frames, folded lines. */
#ifndef EBPROF_STRTAB_H
#define EBPROF_STRTAB_H

#include <stddef.h>
#include <stdint.h>

struct strtab {
	char **v; /* v[i]: the i-th string */
	size_t n, cap;
	uint32_t *slots; /* index + 1; 0 = empty */
	size_t nslots;	 /* power of two */
};

/* The index of s, added when new; -1 without memory. */
int64_t strtab_add(struct strtab *t, const char *s);
/* The index of s, or -1 when it is not there. */
int64_t strtab_find(const struct strtab *t, const char *s);
void strtab_free(struct strtab *t);

#endif
