/* func collector: how its probes are placed and removed.  Where the kernel
 * has uprobe_multi links, one link per file holds every entry probe in it
 * and another every return probe; removing a link waits for one RCU grace
 * period however many probes it holds.  Elsewhere each probe is its own
 * perf-event uprobe, and each removal waits for its own grace period. */
#ifndef EBPROF_FUNC_ATTACH_H
#define EBPROF_FUNC_ATTACH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;
struct bpf_link;
struct func_targets;

enum func_attach_kind {
	FUNC_ATTACH_PERF = 0,  /* one perf-event uprobe per probe */
	FUNC_ATTACH_MULTI,     /* uprobe_multi links */
};

struct func_probes {
	enum func_attach_kind kind;
	const struct bpf_program *entry, *ret; /* ret NULL: entry probes only */
	pid_t pid;                             /* probes fire in this process */
	const struct func_targets *tg;         /* function i has cookie i */
	uint32_t *generation;  /* the BPF side's current generation (multi) */
	unsigned char *on;     /* per function: probes attached */
	struct bpf_link **lentry, **lret; /* perf: per function */
	int *fds;              /* multi: the current generation's links */
	size_t nfds;
};

/* "uprobe_multi" or "perf uprobes". */
const char *func_attach_kind_name(enum func_attach_kind k);

/* Chooses the mechanism: uprobe_multi where the kernel has it (and
 * EBPROF_NO_UPROBE_MULTI is not set in the environment, which tests use to
 * exercise the other path); *why (may be NULL) says why not. */
enum func_attach_kind func_attach_choose(const char **why);

/* Bpf cookie of function id in links of generation gen. */
static inline uint64_t func_cookie(uint32_t gen, uint32_t id)
{
	return (uint64_t)gen << 32 | id;
}

/* Attaches every function of tg (the programs must have been loaded for
 * kind: bpf_program__set_expected_attach_type for multi).  On failure
 * prints one line, keeps what is attached for func_probes_free(), and
 * returns a negative errno. */
int func_probes_attach(struct func_probes *p, enum func_attach_kind kind,
		       const struct bpf_program *entry, const struct bpf_program *ret,
		       pid_t pid, const struct func_targets *tg, uint32_t *generation);

/* Removes the probes of functions idx[0..n).  Multi: links of the next
 * generation for the functions that stay, the generation switch, then the
 * old links' removal.  On failure prints one line and returns a negative
 * errno; the probes then stay until the next detach or func_probes_free()
 * (the caller has already told the BPF side to ignore their hits). */
int func_probes_detach(struct func_probes *p, const size_t *idx, size_t n);

/* Removes every probe (in parallel, so the grace periods overlap) and
 * frees p's arrays. */
void func_probes_free(struct func_probes *p);

/* Destroys n links (NULLs allowed) in parallel threads; sets them NULL. */
void func_links_destroy(struct bpf_link **links, size_t n);

#endif
