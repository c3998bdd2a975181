/* Probe layer: placing and removing a set of uprobes (see uprobe_set.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "probe/uprobe_set.h"
#include "probe/resolve.h"
#include "probe/uprobe_multi.h"
#include "uprobe_gen.h"
#include "util/util.h"

/* Removing a perf-event uprobe waits for an RCU grace period, so links are
 * destroyed by this many threads at once: their waits overlap. */
#define UPROBE_DESTROY_THREADS 64
/* The kernel's ENOTSUPP (not in libc's errno.h): uprobes refuse the
 * instruction at the probed address. */
#define ENOTSUPP_ 524

struct uprobe_probe {
	const struct uprobe_target *t;
	uint32_t cookie;
	unsigned char on; /* attached */
};

struct uprobe_set {
	enum uprobe_attach_kind kind;
	const char *why; /* why not uprobe_multi */
	const struct bpf_program *entry, *ret;
	pid_t pid;
	uint32_t *generation; /* the BPF side's current generation (multi) */
	struct uprobe_probe *v;
	size_t n, cap;
	struct bpf_link **lentry, **lret; /* perf: per probe */
	int *fds;			  /* multi: the current generation's links */
	size_t nfds;
};

static void destroy_links(void *first, size_t n)
{
	struct bpf_link **links = first;

	for (size_t i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
}

void uprobe_links_destroy(struct bpf_link **links, size_t n)
{
	run_in_slices(links, n, sizeof(*links), UPROBE_DESTROY_THREADS, destroy_links);
	memset(links, 0, n * sizeof(*links));
}

const char *uprobe_attach_kind_name(enum uprobe_attach_kind k)
{
	return k == UPROBE_ATTACH_MULTI ? "uprobe_multi" : "perf uprobes";
}

enum uprobe_attach_kind uprobe_attach_choose(enum uprobe_set_mode mode, const char **why)
{
	const char *e = getenv("EBPROF_NO_UPROBE_MULTI");
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = "";
	if (mode == UPROBE_SET_PERF) {
		*why = "perf uprobes asked for";
		return UPROBE_ATTACH_PERF;
	}
	if (mode == UPROBE_SET_AUTO && e && *e && strcmp(e, "0") != 0) {
		*why = "EBPROF_NO_UPROBE_MULTI is set";
		return UPROBE_ATTACH_PERF;
	}
	return uprobe_multi_supported(why) ? UPROBE_ATTACH_MULTI : UPROBE_ATTACH_PERF;
}

/* ---- perf-event uprobes: one link per probe ---- */

static struct bpf_link *attach_one(const struct bpf_program *prog, pid_t pid,
				   const struct uprobe_probe *pr, int ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = uprobe_cookie(0, pr->cookie),
		    .retprobe = ret);

	return bpf_program__attach_uprobe_opts(prog, pid, pr->t->path, (size_t)pr->t->offset, &uo);
}

static int attach_perf(struct uprobe_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct uprobe_probe *pr = &s->v[i];
		int err;

		/* Return probe first: a call entering in between then only
		 * costs an unmatched return, never a stale frame. */
		if (s->ret)
			s->lret[i] = attach_one(s->ret, s->pid, pr, 1);
		if (!s->ret || s->lret[i])
			s->lentry[i] = attach_one(s->entry, s->pid, pr, 0);
		if (!s->lentry[i]) {
			err = errno ? -errno : -EINVAL;
			ebprof_err("cannot attach a uprobe to %s in %s: %s", pr->t->name,
				   pr->t->module,
				   err == -ENOTSUPP_ ?
					   "the kernel cannot probe its first instruction" :
					   strerror(-err));
			return err;
		}
		pr->on = 1;
	}
	return 0;
}

static void detach_perf(struct uprobe_set *s, const size_t *idx, size_t n)
{
	struct bpf_link **tmp = calloc(2 * n + 1, sizeof(*tmp));

	/* Entry and return probes at once: the BPF side already ignores the
	 * probes' entries, and returns without a frame. */
	for (size_t k = 0; k < n; k++) {
		if (tmp) {
			tmp[2 * k] = s->lentry[idx[k]];
			tmp[2 * k + 1] = s->lret[idx[k]];
		} else {
			uprobe_links_destroy(&s->lentry[idx[k]], 1);
			uprobe_links_destroy(&s->lret[idx[k]], 1);
		}
		s->lentry[idx[k]] = s->lret[idx[k]] = NULL;
	}
	if (tmp)
		uprobe_links_destroy(tmp, 2 * n);
	free(tmp);
}

/* ---- uprobe_multi: one link per file and direction ---- */

/* Links of generation gen for every probe that is on: return probes of
 * a file first, then its entry probes.  0 with *fdsp and *nfdsp set, or one line
 * printed and a negative errno. */
static int attach_multi(struct uprobe_set *s, uint32_t gen, int **fdsp, size_t *nfdsp)
{
	size_t n = s->n, nf = 0, cap = 0;
	unsigned char *done = calloc(n ? n : 1, 1);
	uint64_t *offs = calloc(n ? n : 1, sizeof(*offs));
	uint64_t *cookies = calloc(n ? n : 1, sizeof(*cookies));
	int *fds = NULL, err = 0;

	if (!done || !offs || !cookies) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !err; i++) {
		const struct uprobe_target *f = s->v[i].t;
		size_t cnt = 0;

		if (done[i] || !s->v[i].on)
			continue;
		for (size_t j = i; j < n; j++) {
			if (done[j] || !s->v[j].on || strcmp(s->v[j].t->path, f->path) != 0)
				continue;
			done[j] = 1;
			offs[cnt] = s->v[j].t->offset;
			cookies[cnt++] = uprobe_cookie(gen, s->v[j].cookie);
		}
		if ((err = array_grow((void **)&fds, &cap, nf + 2, sizeof(*fds))) != 0)
			break;
		for (int ret = s->ret ? 1 : 0; ret >= 0 && !err; ret--) {
			const struct bpf_program *prog = ret ? s->ret : s->entry;
			int fd = uprobe_multi_attach(bpf_program__fd(prog), f->path, offs, cookies,
						     cnt, ret, s->pid);

			if (fd < 0) {
				err = fd;
				ebprof_err(
					"cannot attach %s probes to %zu function%s in %s: %s",
					ret ? "return" : "entry", cnt, cnt == 1 ? "" : "s",
					f->module,
					err == -ENOTSUPP_ ?
						"the kernel cannot probe the first instruction of "
						"one of them" :
						strerror(-err));
			} else {
				fds[nf++] = fd;
			}
		}
	}
out:
	if (err == -ENOMEM)
		ebprof_err("cannot attach the probes: %s", strerror(ENOMEM));
	if (err) {
		uprobe_multi_close(fds, nf);
		free(fds);
	} else {
		*fdsp = fds;
		*nfdsp = nf;
	}
	free(done);
	free(offs);
	free(cookies);
	return err;
}

/* ---- the set ---- */

struct uprobe_set *uprobe_set__new(const struct uprobe_set_opts *opts)
{
	struct uprobe_set *s = calloc(1, sizeof(*s));
	int err = 0;

	if (!s) {
		ebprof_err("cannot set up the probes: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	s->kind = uprobe_attach_choose(opts->mode, &s->why);
	s->entry = opts->entry;
	s->ret = opts->ret;
	s->pid = opts->pid;
	if (opts->mode == UPROBE_SET_MULTI && s->kind != UPROBE_ATTACH_MULTI) {
		ebprof_err("cannot use uprobe_multi links: %s", s->why);
		err = -EOPNOTSUPP;
	} else if (s->kind == UPROBE_ATTACH_MULTI) {
		err = bpf_program__set_expected_attach_type(
			opts->entry, (enum bpf_attach_type)UPROBE_MULTI_ATTACH_TYPE);
		if (!err && opts->ret)
			err = bpf_program__set_expected_attach_type(
				opts->ret, (enum bpf_attach_type)UPROBE_MULTI_ATTACH_TYPE);
		if (err)
			ebprof_err("cannot set up the uprobe programs: %s", strerror(-err));
	}
	if (err) {
		free(s);
		errno = -err;
		return NULL;
	}
	return s;
}

int uprobe_set__add(struct uprobe_set *s, const struct uprobe_target *t, uint32_t cookie)
{
	int err = array_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v));

	if (err)
		return err;
	s->v[s->n].t = t;
	s->v[s->n].cookie = cookie;
	s->v[s->n].on = 0;
	return (int)s->n++;
}

int uprobe_set__attach(struct uprobe_set *s, uint32_t *generation)
{
	size_t n = s->n ? s->n : 1;

	s->generation = generation;
	if (s->kind == UPROBE_ATTACH_PERF) {
		/* One array, so uprobe_set__free() removes all at once. */
		s->lentry = calloc(2 * n, sizeof(*s->lentry));
		if (!s->lentry)
			return -ENOMEM;
		s->lret = s->lentry + n;
		return attach_perf(s);
	}
	for (size_t i = 0; i < s->n; i++)
		s->v[i].on = 1;
	return attach_multi(s, *generation, &s->fds, &s->nfds);
}

int uprobe_set__detach(struct uprobe_set *s, const size_t *idx, size_t n)
{
	uint32_t gen;
	int *fds = NULL, err;
	size_t nfds = 0;

	for (size_t k = 0; k < n; k++)
		s->v[idx[k]].on = 0;
	if (s->kind == UPROBE_ATTACH_PERF) {
		detach_perf(s, idx, n);
		return 0;
	}
	gen = *s->generation + 1;
	err = attach_multi(s, gen, &fds, &nfds);
	if (err)
		return err;
	/* From here the new links' hits count and the old ones' do not. */
	__atomic_store_n(s->generation, gen, __ATOMIC_SEQ_CST);
	uprobe_multi_close(s->fds, s->nfds);
	free(s->fds);
	s->fds = fds;
	s->nfds = nfds;
	return 0;
}

void uprobe_set__free(struct uprobe_set *s)
{
	if (!s)
		return;
	if (s->lentry)
		uprobe_links_destroy(s->lentry, 2 * (s->n ? s->n : 1));
	if (s->fds)
		uprobe_multi_close(s->fds, s->nfds);
	free(s->lentry);
	free(s->fds);
	free(s->v);
	free(s);
}

enum uprobe_attach_kind uprobe_set__kind(const struct uprobe_set *s)
{
	return s->kind;
}

const char *uprobe_set__why(const struct uprobe_set *s)
{
	return s->why;
}

size_t uprobe_set__cnt(const struct uprobe_set *s)
{
	return s->n;
}

const struct uprobe_target *uprobe_set__target(const struct uprobe_set *s, size_t idx)
{
	return idx < s->n ? s->v[idx].t : NULL;
}

const struct bpf_program *uprobe_set__prog(const struct uprobe_set *s, int ret)
{
	return ret ? s->ret : s->entry;
}
