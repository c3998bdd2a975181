/* Kernel symbols from /proc/kallsyms. */
#ifndef EBPROF_KALLSYMS_H
#define EBPROF_KALLSYMS_H

#include <stdint.h>

struct kallsyms;

/* path NULL means /proc/kallsyms.  0 or negative errno. */
int kallsyms_load(const char *path, struct kallsyms **out);
/* Name of the symbol containing addr, offset into it; NULL if none. */
const char *kallsyms_lookup(const struct kallsyms *k, uint64_t addr, uint64_t *off);
void kallsyms_free(struct kallsyms *k);

#endif
