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

#include "collect/mem_report.h"
#include "mem.h"
#include "mem.skel.h"
#include "probe/governor.h"
#include "probe/uprobe_set.h"
#include "run/collector.h"
#include "run/features.h"
#include "symbols/symbolize.h"

#define MEM_FN_NAME_(name, sym) [MEM_FN_##name] = sym,
static const char *const fn_names[MEM_FN_MAX] = { MEM_FUNCS(MEM_FN_NAME_) };
#undef MEM_FN_NAME_

static const enum feature mem_needs[] = { FEAT_BTF, FEAT_UPROBE };

static void mem_close(void *state)
{
	struct mem_state *s = state;

	if (!s)
		return;
	uprobe_set__free(s->allocs);
	uprobe_set__free(s->frees);
	uprobe_cost_wait(&s->cost);
	uprobe_governor__free(s->gov);
	mem_bpf__destroy(s->skel);
	symbolizer_free(s->sym);
	uprobe_targets_free(&s->tg);
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

/* The two probe sets on the opened object. */
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
		enum mem_fn fn = fn_of(s->tg.v[i].name);

		if (fn == MEM_FN_FREE)
			free_t = &s->tg.v[i];
		else
			err = uprobe_set__add(s->allocs, &s->tg.v[i],
					      (uint32_t)(s->nallocs++ << 8 | fn));
	}
	if (err >= 0 && !free_t) {
		ebprof_err("%s defines malloc but not free: not an allocator ebprof can follow",
			   s->allocator);
		return -ENOENT;
	}
	if (err >= 0)
		err = uprobe_set__add(s->frees, free_t, (uint32_t)s->nallocs);
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
	err = new_probes(s);
	if (err)
		return err;
	/* Probe indices: allocation functions, free, calibration. */
	err = bpf_map__set_max_entries(s->skel->maps.fstats, (uint32_t)s->nallocs + 2);
	if (!err)
		err = mem_bpf__load(s->skel);
	if (err) {
		collector_bpf_error("mem", 1, err);
		return err;
	}
	return 0;
}

static int mem_open(void **statep, const struct options *o, struct target *t)
{
	struct uprobe_where w = {
		.pid = t->pid, .exe = t->exe, .exe_open = t->exe_open, .launched = t->launched
	};
	struct mem_state *s;
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
		err = uprobe_resolve_provider(&w, o->allocator, "malloc", fn_names, MEM_FN_MAX,
					      &s->tg);
	if (err)
		goto fail;
	s->allocator = s->tg.v[0].module;
	err = load_bpf(s);
	if (err)
		goto fail;
	/* One allocation call: its entry and return probes (the calibration
	 * runs the whole booking path, in ebprof, where nothing is booked). */
	uprobe_cost_get(&s->cost, s->allocs, (uint32_t)((s->nallocs + 1) << 8 | MEM_FN_MALLOC),
			NULL, o->probe_cost_ns, o->probe_cost_from, &s->notes);
	ebprof_verbose(1, "mem: %zu allocator functions in %s, probe cost %.0f ns per call (%s)",
		       s->tg.n, s->allocator, s->cost.ns, s->cost.source);
	*statep = s;
	return 0;
fail:
	mem_close(s);
	return err;
}

static int mem_attach(void *state)
{
	struct mem_state *s = state;
	struct uprobe_governor_opts go = {
		.name = "mem",
		.stats_fd = bpf_map__fd(s->skel->maps.fstats),
		.value_size = sizeof(struct mem_fstats),
		.count_off = offsetof(struct mem_fstats, entries),
		.budget_pct = s->o->max_overhead,
		.detached = s->skel->bss->detached,
		.notes = &s->notes,
	};
	int err;

	/* free() first: no block allocated once the allocation probes are on
	 * has its free missed. */
	err = uprobe_set__attach(s->frees, &s->skel->bss->generation);
	if (!err)
		err = uprobe_set__attach(s->allocs, &s->skel->bss->generation);
	if (err)
		return err;
	s->t_attach = now_ns();
	/* A call's cost: its probes, and the free() entry that most blocks
	 * get (one probe of two: half). */
	go.set = s->allocs;
	go.cost_ns = s->cost.ns * 1.5;
	s->gov = uprobe_governor__new(&go);
	if (!s->gov)
		return -errno; /* one line printed */
	return 0;
}

/* Keeps the target's mappings (a launched command's exec, libraries
 * loaded later) for the report. */
static int mem_tick(void *state)
{
	struct mem_state *s = state;

	uprobe_governor__tick(s->gov);
	if (!s->sym)
		symbolizer_new(s->t->pid, &s->sym);
	else
		symbolizer_refresh(s->sym);
	return 0;
}

static void mem_stop(void *state)
{
	struct mem_state *s = state;

	s->skel->bss->stopped = 1;
	s->t_stop = now_ns();
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
