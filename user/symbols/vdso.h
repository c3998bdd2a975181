/* The target's vdso: not a file, so its image is copied out of the
 * target's memory while it runs (for its symbols and its CFI).  The
 * target's own, not ebprof's: a 32-bit or x32 process has another. */
#ifndef EBPROF_VDSO_H
#define EBPROF_VDSO_H

#include <stddef.h>
#include <sys/types.h>

struct procmap;

/* A malloc'd copy of pid's [vdso] mapping m in *image, its size in *size
 * (/proc/PID/mem: root).  0; -EINVAL for a mapping no vdso has (empty,
 * over 1 MiB); else a negative errno (-ESRCH: gone, -EIO: short read). */
int vdso_copy(pid_t pid, const struct procmap *m, void **image, size_t *size);

#endif
