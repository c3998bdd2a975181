/* The launched command held at its start: uprobes (bpf/entry.bpf.c), for
 * the command's pid only, stop it with SIGSTOP in the dynamic loader
 * (its _dl_debug_state hook: before ld.so maps the DT_NEEDED libraries,
 * and once they are mapped, before their constructors) and at its
 * executable's entry point, before any of the program's own code runs, so
 * that the collectors read its mappings at each step (session.c
 * refreshes them, then lets it go). */
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
 * negative errno with *why set to a short reason (nothing printed).  An
 * executable whose loader has no _dl_debug_state is held at its entry
 * only (*loader_why says why, or is NULL). */
int entry_hold__new(pid_t pid, const char *exe, struct entry_hold **out, const char **why,
		    const char **loader_why);
/* Readable when the command has hit a probe (for poll). */
int entry_hold__fd(const struct entry_hold *h);

/* A stop of the command. */
struct entry_stop {
	int entry;	 /* at its entry point (the last), else in the loader */
	int signal_err;	 /* the stop signal's negative errno when it could not be sent */
	uint64_t hit_ns; /* CLOCK_MONOTONIC of the hit */
};

/* The command's stop not yet taken: 1 and *st, else 0.  (Hits that could
 * not stop it are taken at once, the last one's facts given.) */
int entry_hold__next(struct entry_hold *h, struct entry_stop *st);
/* Removes the probes: once it returns no hit is under way, so
 * entry_hold__next() is final. */
void entry_hold__detach(struct entry_hold *h);
void entry_hold__free(struct entry_hold *h);

#endif
