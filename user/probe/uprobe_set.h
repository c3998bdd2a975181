/* Probe layer: a set of uprobes (file, offset, cookie) running the entry
 * and (optional) return program of the caller's own BPF object, placed and
 * removed together (after retsnoop's mass_attacher).  Where the kernel has
 * uprobe_multi links, one link per file holds every entry probe in it and
 * another every return probe; removing a link waits for one RCU grace
 * period however many probes it holds.  Elsewhere each probe is its own
 * perf-event uprobe, and each removal waits for its own grace period.
 *
 * Lifecycle: uprobe_set__new() on the opened (not yet loaded) BPF object,
 * uprobe_set__add() per probe, load the object, uprobe_set__attach(),
 * uprobe_set__detach() any time after, uprobe_set__free().  The programs
 * take the cookie from bpf_get_attach_cookie() and filter hits with
 * bpf/uprobe_gen.bpf.h. */
#ifndef EBPROF_UPROBE_SET_H
#define EBPROF_UPROBE_SET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_program;
struct bpf_link;
struct uprobe_target;
struct uprobe_set;

enum uprobe_attach_kind {
	UPROBE_ATTACH_PERF = 0, /* one perf-event uprobe per probe */
	UPROBE_ATTACH_MULTI,	/* uprobe_multi links */
};

enum uprobe_set_mode {
	/* uprobe_multi where the kernel has it and EBPROF_NO_UPROBE_MULTI is
	 * not set in the environment (tests use it to exercise the other
	 * path), else one perf uprobe per probe */
	UPROBE_SET_AUTO = 0,
	UPROBE_SET_MULTI, /* uprobe_multi or fail */
	UPROBE_SET_PERF,  /* perf uprobes */
};

struct uprobe_set_opts {
	enum uprobe_set_mode mode;
	/* The caller's programs, opened but not loaded: for uprobe_multi
	 * uprobe_set__new() sets their expected attach type.  ret NULL:
	 * entry probes only. */
	struct bpf_program *entry, *ret;
	pid_t pid; /* probes fire in this process */
};

/* "uprobe_multi" or "perf uprobes". */
const char *uprobe_attach_kind_name(enum uprobe_attach_kind k);

/* The mechanism mode gives on this kernel; *why (may be NULL) says why not
 * uprobe_multi ("" when it is). */
enum uprobe_attach_kind uprobe_attach_choose(enum uprobe_set_mode mode, const char **why);

/* An empty set, its mechanism chosen.  NULL with errno set, one line
 * printed (-EOPNOTSUPP: UPROBE_SET_MULTI on a kernel without it). */
struct uprobe_set *uprobe_set__new(const struct uprobe_set_opts *opts);

/* Adds a probe at t's entry (t must outlive the set) whose programs see
 * cookie in the low 32 bits of the bpf cookie.  Returns its index (the
 * order of adding, what uprobe_set__detach() takes) or a negative errno. */
int uprobe_set__add(struct uprobe_set *s, const struct uprobe_target *t, uint32_t cookie);

/* Attaches every probe (the BPF object loaded); generation is the loaded
 * object's current generation (skel->bss->generation, bpf/uprobe_gen.bpf.h).
 * On failure prints one line, keeps what is attached for uprobe_set__free(),
 * and returns a negative errno. */
int uprobe_set__attach(struct uprobe_set *s, uint32_t *generation);

/* Removes the probes idx[0..n).  Multi: links of the next generation for
 * the probes that stay, the generation switch, then the old links'
 * removal.  On failure prints one line and returns a negative errno; the
 * probes then stay until the next detach or uprobe_set__free() (the caller
 * has already told the BPF side to ignore their hits). */
int uprobe_set__detach(struct uprobe_set *s, const size_t *idx, size_t n);

/* Removes every probe (in parallel, so the grace periods overlap) and
 * frees s (NULL allowed). */
void uprobe_set__free(struct uprobe_set *s);

enum uprobe_attach_kind uprobe_set__kind(const struct uprobe_set *s);
/* Why not uprobe_multi ("" when it is). */
const char *uprobe_set__why(const struct uprobe_set *s);
size_t uprobe_set__cnt(const struct uprobe_set *s);
const struct uprobe_target *uprobe_set__target(const struct uprobe_set *s, size_t idx);
/* The entry (ret 0) or return (ret 1, maybe NULL) program. */
const struct bpf_program *uprobe_set__prog(const struct uprobe_set *s, int ret);

/* Destroys n links (NULLs allowed) in parallel threads; sets them NULL. */
void uprobe_links_destroy(struct bpf_link **links, size_t n);

#endif
