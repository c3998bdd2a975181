/* func collector: placing and removing its probes (see func_attach.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "probe/uprobe_set.h"
#include "collect/func_user.h"
#include "probe/uprobe_multi.h"
#include "util/util.h"

/* Removing a perf-event uprobe waits for an RCU grace period, so links are
 * destroyed by this many threads at once: their waits overlap. */
#define FUNC_DESTROY_THREADS 64
/* The kernel's ENOTSUPP (not in libc's errno.h): uprobes refuse the
 * instruction at the probed address. */
#define ENOTSUPP_ 524

static void destroy_links(void *first, size_t n)
{
	struct bpf_link **links = first;

	for (size_t i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
}

void func_links_destroy(struct bpf_link **links, size_t n)
{
	run_in_slices(links, n, sizeof(*links), FUNC_DESTROY_THREADS, destroy_links);
	memset(links, 0, n * sizeof(*links));
}

const char *func_attach_kind_name(enum func_attach_kind k)
{
	return k == FUNC_ATTACH_MULTI ? "uprobe_multi" : "perf uprobes";
}

enum func_attach_kind func_attach_choose(const char **why)
{
	const char *e = getenv("EBPROF_NO_UPROBE_MULTI");
	const char *dummy;

	if (!why)
		why = &dummy;
	if (e && *e && strcmp(e, "0") != 0) {
		*why = "EBPROF_NO_UPROBE_MULTI is set";
		return FUNC_ATTACH_PERF;
	}
	return uprobe_multi_supported(why) ? FUNC_ATTACH_MULTI : FUNC_ATTACH_PERF;
}

/* ---- perf-event uprobes: one link per probe ---- */

static struct bpf_link *attach_one(const struct bpf_program *prog, pid_t pid,
				   const struct func_target *f, uint32_t id, int ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = id, .retprobe = ret);

	return bpf_program__attach_uprobe_opts(prog, pid, f->path, (size_t)f->offset, &uo);
}

static int attach_perf(struct func_probes *p)
{
	for (size_t i = 0; i < p->tg->n; i++) {
		const struct func_target *f = &p->tg->v[i];
		int err;

		/* Return probe first: a call entering in between then only
		 * costs an unmatched return, never a stale frame. */
		if (p->ret)
			p->lret[i] = attach_one(p->ret, p->pid, f, (uint32_t)i, 1);
		if (!p->ret || p->lret[i])
			p->lentry[i] = attach_one(p->entry, p->pid, f, (uint32_t)i, 0);
		if (!p->lentry[i]) {
			err = errno ? -errno : -EINVAL;
			ebprof_err("cannot attach a uprobe to %s in %s: %s", f->name, f->module,
				   err == -ENOTSUPP_ ? "the kernel cannot probe its first instruction"
						     : strerror(-err));
			return err;
		}
		p->on[i] = 1;
	}
	return 0;
}

static void detach_perf(struct func_probes *p, const size_t *idx, size_t n)
{
	struct bpf_link **tmp = calloc(2 * n + 1, sizeof(*tmp));

	/* Entry and return probes at once: the BPF side already ignores the
	 * functions' entries, and returns without a frame. */
	for (size_t k = 0; k < n; k++) {
		if (tmp) {
			tmp[2 * k] = p->lentry[idx[k]];
			tmp[2 * k + 1] = p->lret[idx[k]];
		} else {
			func_links_destroy(&p->lentry[idx[k]], 1);
			func_links_destroy(&p->lret[idx[k]], 1);
		}
		p->lentry[idx[k]] = p->lret[idx[k]] = NULL;
	}
	if (tmp)
		func_links_destroy(tmp, 2 * n);
	free(tmp);
}

/* ---- uprobe_multi: one link per file and direction ---- */

/* Links of generation gen for every function that is on: return probes of
 * a file first, then its entry probes.  0 with *fdsp and *nfdsp set, or one line
 * printed and a negative errno. */
static int attach_multi(struct func_probes *p, uint32_t gen, int **fdsp, size_t *nfdsp)
{
	size_t n = p->tg->n, nf = 0, cap = 0;
	unsigned char *done = calloc(n ? n : 1, 1);
	uint64_t *offs = calloc(n ? n : 1, sizeof(*offs));
	uint64_t *cookies = calloc(n ? n : 1, sizeof(*cookies));
	int *fds = NULL, err = 0;

	if (!done || !offs || !cookies) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !err; i++) {
		const struct func_target *f = &p->tg->v[i];
		size_t cnt = 0;

		if (done[i] || !p->on[i])
			continue;
		for (size_t j = i; j < n; j++) {
			if (done[j] || !p->on[j] || strcmp(p->tg->v[j].path, f->path) != 0)
				continue;
			done[j] = 1;
			offs[cnt] = p->tg->v[j].offset;
			cookies[cnt++] = func_cookie(gen, (uint32_t)j);
		}
		if ((err = array_grow((void **)&fds, &cap, nf + 2, sizeof(*fds))) != 0)
			break;
		for (int ret = p->ret ? 1 : 0; ret >= 0 && !err; ret--) {
			const struct bpf_program *prog = ret ? p->ret : p->entry;
			int fd = uprobe_multi_attach(bpf_program__fd(prog), f->path, offs, cookies,
						     cnt, ret, p->pid);

			if (fd < 0) {
				err = fd;
				ebprof_err("cannot attach %s probes to %zu function%s in %s: %s",
					   ret ? "return" : "entry", cnt, cnt == 1 ? "" : "s",
					   f->module, err == -ENOTSUPP_ ?
					   "the kernel cannot probe the first instruction of "
					   "one of them" : strerror(-err));
			} else {
				fds[nf++] = fd;
			}
		}
	}
out:
	if (err == -ENOMEM)
		ebprof_err("cannot attach the func probes: %s", strerror(ENOMEM));
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

int func_probes_attach(struct func_probes *p, enum func_attach_kind kind,
		       const struct bpf_program *entry, const struct bpf_program *ret,
		       pid_t pid, const struct func_targets *tg, uint32_t *generation)
{
	size_t n = tg->n ? tg->n : 1;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->entry = entry;
	p->ret = ret;
	p->pid = pid;
	p->tg = tg;
	p->generation = generation;
	p->on = calloc(n, 1);
	if (!p->on)
		return -ENOMEM;
	if (kind == FUNC_ATTACH_PERF) {
		/* One array, so func_probes_free() removes all at once. */
		p->lentry = calloc(2 * n, sizeof(*p->lentry));
		if (!p->lentry)
			return -ENOMEM;
		p->lret = p->lentry + n;
		return attach_perf(p);
	}
	memset(p->on, 1, tg->n);
	return attach_multi(p, *generation, &p->fds, &p->nfds);
}

int func_probes_detach(struct func_probes *p, const size_t *idx, size_t n)
{
	uint32_t gen;
	int *fds = NULL, err;
	size_t nfds = 0;

	for (size_t k = 0; k < n; k++)
		p->on[idx[k]] = 0;
	if (p->kind == FUNC_ATTACH_PERF) {
		detach_perf(p, idx, n);
		return 0;
	}
	gen = *p->generation + 1;
	err = attach_multi(p, gen, &fds, &nfds);
	if (err)
		return err;
	/* From here the new links' hits count and the old ones' do not. */
	__atomic_store_n(p->generation, gen, __ATOMIC_SEQ_CST);
	uprobe_multi_close(p->fds, p->nfds);
	free(p->fds);
	p->fds = fds;
	p->nfds = nfds;
	return 0;
}

void func_probes_free(struct func_probes *p)
{
	if (p->lentry)
		func_links_destroy(p->lentry, 2 * (p->tg && p->tg->n ? p->tg->n : 1));
	if (p->fds)
		uprobe_multi_close(p->fds, p->nfds);
	free(p->lentry);
	free(p->fds);
	free(p->on);
	memset(p, 0, sizeof(*p));
}
