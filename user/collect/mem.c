/* mem collector, probe side: uprobes on the allocator the target binds to
 * (the executable's own, a preloaded one, or the first DT_NEEDED library
 * defining malloc; --allocator overrides), placed through the probe layer.
 * Allocation functions get an entry and a return probe and are governed
 * (--max-overhead); free() has its own entry-only set that stays, so the
 * blocks already seen stay booked whatever the governor detaches. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/mem_growth.h"
#include "collect/mem_report.h"
#include "mem.h"
#include "mem.skel.h"
#include "probe/governor.h"
#include "probe/uprobe_set.h"
#include "run/collector.h"
#include "run/features.h"
#include "symbols/symbolize.h"
#include "unwind/share.h"
#include "util/bpfmap.h"

#define MEM_FN_NAME_(name, sym) [MEM_FN_##name] = sym,
static const char *const fn_names[MEM_FN_MAX] = { MEM_FUNCS(MEM_FN_NAME_) };
#undef MEM_FN_NAME_

static const enum feature mem_needs[] = { FEAT_BTF, FEAT_UPROBE,
					  FEAT_BPF_LOOP /* the user stack walker */ };

static void mem_close(void *state)
{
	struct mem_state *s = state;

	if (!s)
		return;
	uprobe_set__free(s->allocs);
	uprobe_set__free(s->frees);
	uprobe_cost_wait(&s->cost);
	uprobe_cost_wait(&s->free_cost);
	uprobe_governor__free(s->gov);
	uprobe_governor__free(s->free_gov);
	mem_growth__free(s->growth);
	mem_bpf__destroy(s->skel);
	uprobe_targets_free(&s->tg);
	uprobe_targets_free(&s->cxx);
	strlist_free(&s->notes);
	free(s);
}

static enum mem_fn fn_of(const char *name)
{
	for (int i = 0; i < MEM_FN_MAX; i++)
		if (!strcmp(fn_names[i], name))
			return (enum mem_fn)i;
	return MEM_FN_MAX;
}

/* Adds t to the set its function belongs to (probe indices: the
 * allocation functions 0.., free and the deletes nallocs + j). */
static int add_probe(struct mem_state *s, const struct uprobe_target *t)
{
	enum mem_fn fn = fn_of(t->name);

	if (mem_fn_frees(fn))
		return uprobe_set__add(s->frees, t,
				       (uint32_t)((s->nallocs + s->nfrees++) << 8 | fn));
	return uprobe_set__add(s->allocs, t, (uint32_t)(s->nallocs++ << 8 | fn));
}

/* The two probe sets on the opened object: free() first in its set, the
 * allocation functions' indices before any free's. */
static int new_probes(struct mem_state *s)
{
	struct uprobe_set_opts ao = { .mode = UPROBE_SET_AUTO,
				      .entry = s->skel->progs.mem_entry,
				      .ret = s->skel->progs.mem_return,
				      .pid = s->t->pid };
	struct uprobe_set_opts fo = { .mode = UPROBE_SET_AUTO,
				      .entry = s->skel->progs.mem_free,
				      .pid = s->t->pid };
	const struct uprobe_target *free_t = NULL;
	int err = 0;

	s->allocs = uprobe_set__new(&ao);
	s->frees = s->allocs ? uprobe_set__new(&fo) : NULL;
	if (!s->frees)
		return -errno;
	for (size_t i = 0; i < s->tg.n && err >= 0; i++) {
		if (fn_of(s->tg.v[i].name) == MEM_FN_FREE)
			free_t = &s->tg.v[i];
		else
			err = add_probe(s, &s->tg.v[i]);
	}
	for (size_t i = 0; i < s->cxx.n && err >= 0; i++)
		if (!mem_fn_frees(fn_of(s->cxx.v[i].name)))
			err = add_probe(s, &s->cxx.v[i]);
	if (err >= 0 && !free_t) {
		ebprof_err("%s defines malloc but not free: not an allocator ebprof can follow",
			   s->allocator);
		return -ENOENT;
	}
	if (err >= 0)
		err = add_probe(s, free_t);
	for (size_t i = 0; i < s->cxx.n && err >= 0; i++)
		if (mem_fn_frees(fn_of(s->cxx.v[i].name)))
			err = add_probe(s, &s->cxx.v[i]);
	if (err < 0)
		ebprof_err("cannot set up the mem probes: %s", strerror(-err));
	return err < 0 ? err : 0;
}

static int load_bpf(struct mem_state *s)
{
	int err;

	s->skel = mem_bpf__open();
	if (!s->skel) {
		err = -errno;
		collector_bpf_error("mem", 0, err);
		return err;
	}
	s->skel->rodata->targ_tgid = (uint32_t)s->t->pid;
	s->skel->rodata->unwind_mode = (uint32_t)s->o->unwind;
	err = new_probes(s);
	if (err)
		return err;
	/* Probe indices: allocation functions, free and deletes, calibration. */
	err = bpf_map__set_max_entries(s->skel->maps.fstats,
				       (uint32_t)(s->nallocs + s->nfrees + 1));
	if (err) {
		collector_bpf_error("mem", 1, err);
		return err;
	}
	/* The sites' stacks. */
	err = unwind_share__use(s->t->share, s->skel->obj);
	if (err)
		return err;
	err = mem_bpf__load(s->skel);
	if (err)
		collector_bpf_error("mem", 1, err);
	return err;
}

static int mem_open(void **statep, const struct options *o, struct target *t)
{
	struct uprobe_where w = {
		.pid = t->pid, .exe = t->exe, .exe_open = t->exe_open, .launched = t->launched
	};
	struct mem_state *s;
	uint32_t calib;
	int err;

	if (features_require("the mem report", mem_needs, ARRAY_SIZE(mem_needs)))
		return -ENOTSUP;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = o;
	s->t = t;
	s->ncpus = libbpf_num_possible_cpus();
	err = s->ncpus > 0 ? 0 : s->ncpus;
	if (!err)
		err = uprobe_resolve_provider(&w, o->allocator, "malloc", fn_names,
					      MEM_FN_CXX_FIRST, &s->tg);
	/* operator new/delete where the target binds them (none: a C
	 * program). */
	if (!err)
		err = uprobe_resolve_optional(&w, fn_names[MEM_FN_NEW], fn_names + MEM_FN_CXX_FIRST,
					      MEM_FN_MAX - MEM_FN_CXX_FIRST, &s->cxx);
	if (err == -ENOENT && s->tg.n)
		err = 0;
	if (err)
		goto fail;
	s->allocator = s->tg.v[0].module;
	err = load_bpf(s);
	if (err)
		goto fail;
	/* One allocation call: its entry and return probes (the calibration
	 * runs the whole booking path, in ebprof, where nothing is booked). */
	calib = (uint32_t)(s->nallocs + s->nfrees);
	uprobe_cost_get(&s->cost, s->allocs, calib << 8 | MEM_FN_MALLOC, NULL, o->probe_cost_ns,
			o->probe_cost_from, &s->notes);
	/* free()'s entry probe, measured the same way (the calibration index
	 * of fstats; the tgid filter books nothing). */
	uprobe_cost_get(&s->free_cost, s->frees, calib << 8 | MEM_FN_FREE, NULL, 0, NULL,
			&s->notes);
	/* --probe-cost gives an allocation call's cost: free()'s is scaled
	 * to it by the ratio measured here. */
	if (o->probe_cost_ns > 0 && s->cost.measured_ns > 0) {
		s->free_cost.ns = s->free_cost.ns * o->probe_cost_ns / s->cost.measured_ns;
		s->free_cost.source = o->probe_cost_from;
	}
	ebprof_verbose(1,
		       "mem: %zu allocator functions in %s, probe cost %.0f ns per allocation "
		       "call (%s), %.0f ns per free() (%s)",
		       s->tg.n + s->cxx.n, s->allocator, s->cost.ns, s->cost.source,
		       s->free_cost.ns, s->free_cost.source);
	*statep = s;
	return 0;
fail:
	mem_close(s);
	return err;
}

/* A governor of set, whose probes' counters start at fstats key base
 * (their detached flags too).  NULL with one line printed. */
static struct uprobe_governor *new_governor(struct mem_state *s, struct uprobe_set *set,
					    uint32_t base, double cost_ns)
{
	return uprobe_governor__new(
		&(struct uprobe_governor_opts){ .name = "mem",
						.set = set,
						.stats_fd = bpf_map__fd(s->skel->maps.fstats),
						.value_size = sizeof(struct mem_fstats),
						.count_off = offsetof(struct mem_fstats, entries),
						.stats_base = base,
						.cost_ns = cost_ns,
						.budget_pct = s->o->max_overhead,
						.detached = s->skel->bss->detached + base,
						.notes = &s->notes });
}

static int mem_attach(void *state)
{
	struct mem_state *s = state;
	int err;

	/* free() first: no block allocated once the allocation probes are on
	 * has its free missed. */
	err = uprobe_set__attach(s->frees, &s->skel->bss->generation);
	if (!err)
		err = uprobe_set__attach(s->allocs, &s->skel->bss->generation);
	if (err)
		return err;
	s->t_attach = now_ns();
	s->growth = mem_growth__new((uint64_t)(s->o->interval * 1e9));
	if (!s->growth) {
		ebprof_err("mem: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	/* A call's cost: its probes, and the free() entries that come with
	 * it, as many per allocation as the target has made so far (until
	 * the first tick: one). */
	s->frees_per_alloc = 1;
	s->gov_cost_ns = s->cost.ns + s->free_cost.ns;
	s->gov = new_governor(s, s->allocs, 0, s->gov_cost_ns);
	if (!s->gov)
		return -errno; /* one line printed */
	return 0;
}

/* The governor's cost per allocation call from the hit counts so far:
 * the allocation probes' pair plus free()'s entry times the frees per
 * allocation (frees of blocks from before the attach included: they cost
 * the same). */
static void update_cost(struct mem_state *s)
{
	int fd = bpf_map__fd(s->skel->maps.fstats);
	uint64_t allocs = 0, frees = 0;

	for (uint32_t i = 0; i < s->nallocs; i++)
		allocs += map_percpu_u64_sum(fd, i, s->ncpus);
	for (uint32_t j = 0; j < s->nfrees; j++)
		frees += map_percpu_u64_sum(fd, (uint32_t)(s->nallocs + j), s->ncpus);
	/* Once an allocation function is detached its calls stop counting,
	 * and the ratio with them: the last one measured stays. */
	if (!allocs || s->t_detach)
		return;
	s->frees_per_alloc = (double)frees / (double)allocs;
	s->gov_cost_ns = s->cost.ns + s->free_cost.ns * s->frees_per_alloc;
	uprobe_governor__set_cost(s->gov, s->gov_cost_ns);
}

static uint64_t unknown_frees(struct mem_state *s)
{
	struct mem_totals tot;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.totals), &zero, &tot))
		return 0;
	return tot.unknown_frees;
}

/* free()'s own governor, started at the first detach of an allocation
 * function: free() keeps the outstanding figures exact (and sees the
 * blocks allocated unseen), and it goes too when it alone costs more
 * than the budget. */
static void govern_free(struct mem_state *s, uint64_t t, uint64_t unknown)
{
	if (!s->free_gov) {
		if (!s->free_gov_tried) {
			s->free_gov_tried = 1;
			s->free_gov = new_governor(s, s->frees, (uint32_t)s->nallocs,
						   s->free_cost.ns);
		}
		return;
	}
	uprobe_governor__tick(s->free_gov);
	if (!s->t_free_detach && uprobe_governor__ndetached(s->free_gov)) {
		s->t_free_detach = t;
		s->unknown_at_free_detach = unknown;
	}
}

/* Governs (the target's mappings are the session's to keep current:
 * user/unwind/share.h). */
static int mem_tick(void *state)
{
	struct mem_state *s = state;

	uint64_t t = now_ns(), unknown = unknown_frees(s);

	update_cost(s);
	uprobe_governor__tick(s->gov);
	/* The untracked frees up to the tick that detached: what follows are
	 * frees of blocks allocated while not seen. */
	if (!s->t_detach && uprobe_governor__ndetached(s->gov)) {
		s->t_detach = t;
		s->unknown_at_detach = unknown;
	}
	if (s->t_detach)
		govern_free(s, t, unknown);
	if (mem_growth__tick(s->growth, bpf_map__fd(s->skel->maps.sites), t, 0))
		return -ENOMEM;
	return 0;
}

static void mem_stop(void *state)
{
	struct mem_state *s = state;

	s->skel->bss->stopped = 1;
	s->t_stop = now_ns();
	/* The end is the growth's last sample (a failure leaves the ones
	 * before). */
	mem_growth__tick(s->growth, bpf_map__fd(s->skel->maps.sites), s->t_stop, 1);
}

const struct collector_ops mem_collector = {
	.name = "mem",
	.desc = "exact allocations, leaks, temporaries and peak per stack (allocator uprobes)",
	.default_on = 0,
	.tables = mem_tables,
	.metrics = mem_metrics,
	.nmetrics = MEM_METRICS_N,
	.open = mem_open,
	.attach = mem_attach,
	.tick = mem_tick,
	.stop = mem_stop,
	.report = mem_report,
	.close = mem_close,
};
