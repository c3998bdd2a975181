/* What the collectors that walk and symbolize the target's user stacks
 * (cpu, mem, vm) share in one run: one set of unwind tables, in BPF maps
 * every collector's object reuses (bpf/unwind.bpf.h), and one symbolizer,
 * both kept current from one reading of /proc/PID/maps per tick.  The
 * session owns it (user/run/session.c: __new after the target,
 * __update every tick and before every report, __free after the
 * collectors); a collector calls __use before loading its object and
 * takes the symbolizer for its report. */
#ifndef EBPROF_UNWIND_SHARE_H
#define EBPROF_UNWIND_SHARE_H

#include <stdint.h>
#include <sys/types.h>

#include "unwind.h"

struct bpf_object;
struct symbolizer;
struct unwind_share;

/* Nothing is read or created here: a run without a collector that uses
 * it pays nothing.  demangle: the symbolizer's C++ names demangled (0:
 * --no-demangle).  0 or -ENOMEM. */
int unwind_share__new(enum unwind_mode mode, pid_t pid, int launched, int demangle,
		      struct unwind_share **out);
/* Before obj's load: obj's unwind maps (those of bpf/unwind.bpf.h)
 * become the run's.  The first call makes them (one entry each with
 * --unwind fp, which walks nothing) and, for a running target, reads its
 * mappings and builds its tables, on a thread: __ready waits for them (a
 * launched one gets them at its first update after exec).  0, or a
 * negative errno with one line printed. */
int unwind_share__use(struct unwind_share *sh, struct bpf_object *obj);
/* Waits for a running target's first reading, which the first __use
 * starts on a thread of its own (so that the tables build while the
 * objects load): call it before attaching.  0, or the negative errno
 * of that reading, with its line printed. */
int unwind_share__ready(struct unwind_share *sh);
/* 1 once some collector has called __use. */
int unwind_share__used(const struct unwind_share *sh);
/* One reading of /proc/PID/maps into the symbolizer and the tables (the
 * files not seen before built and loaded, the mapping lookup rewritten).
 * Nothing before the first __use; nothing once the target is gone (what
 * was read stays).  0 or negative errno. */
int unwind_share__update(struct unwind_share *sh);
/* The target's symbolizer (kernel only when its mappings could never be
 * read), its source notes started anew for the caller's report; NULL
 * without memory. */
struct symbolizer *unwind_share__symbolizer(struct unwind_share *sh);

void unwind_share__free(struct unwind_share *sh);

#endif
