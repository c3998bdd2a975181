/* /proc/PID/maps parsing.  The text comes from the target: parsed
 * defensively, any line may be hostile (long, odd paths, " (deleted)"). */
#ifndef EBPROF_PROCMAPS_H
#define EBPROF_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct procmap {
	uint64_t start, end; /* [start, end) */
	uint64_t offset;     /* file offset of start */
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	char perms[5]; /* "r-xp" */
	char *path;    /* NULL for anonymous; "[vdso]", "/usr/lib/x.so" */
	int deleted;   /* path ended in " (deleted)" (suffix removed) */
};

struct procmaps {
	struct procmap *maps;
	size_t n, cap;
};

/* Parses maps text (need not be NUL-terminated).  Malformed lines are
 * skipped and counted in *bad (may be NULL).  0 or negative errno. */
int procmaps_parse(const char *text, size_t len, struct procmaps *out, size_t *bad);
/* Reads /proc/PID/maps.  -ESRCH when the process is gone. */
int procmaps_read(pid_t pid, struct procmaps *out);
/* Executable mapping containing addr, or NULL. */
const struct procmap *procmaps_find(const struct procmaps *m, uint64_t addr);
void procmaps_free(struct procmaps *m);

#endif
