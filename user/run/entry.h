/* The launched command held at its executable's entry point: a uprobe on
 * the entry (bpf/entry.bpf.c), for the command's pid only, stops it with
 * SIGSTOP after ld.so has mapped its DT_NEEDED libraries and before any of
 * the program's own code runs, so that the collectors can read its
 * mappings first (session.c refreshes them, then lets it go). */
#ifndef EBPROF_ENTRY_H
#define EBPROF_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct entry_hold;

/* The ELF file whose entry runs first when path is exec'd (path, or the
 * interpreter of a "#!" script, as the kernel follows them) and the file
 * offset of its entry point (e_entry through the program headers: PIE,
 * non-PIE and static alike).  0, -ENOEXEC (no ELF entry to find), or a
 * negative errno. */
int entry_point(const char *path, char *file, size_t len, uint64_t *offset);

/* Places the hold for pid, not yet exec'd, which will exec exe.  0 or a
 * negative errno with *why set to a short reason (nothing printed). */
int entry_hold__new(pid_t pid, const char *exe, struct entry_hold **out, const char **why);
/* Readable when the command has hit its entry (for poll). */
int entry_hold__fd(const struct entry_hold *h);
/* 1 once the command hit its entry; *signal_err: the stop signal's
 * negative errno when it could not be sent (0: sent). */
int entry_hold__hit(struct entry_hold *h, int *signal_err);
/* CLOCK_MONOTONIC ns of the hit (0: none yet). */
uint64_t entry_hold__hit_ns(const struct entry_hold *h);
/* Removes the probe: once it returns no hit is under way, so
 * entry_hold__hit() is final. */
void entry_hold__detach(struct entry_hold *h);
void entry_hold__free(struct entry_hold *h);

#endif
