/* Probe layer: the overhead governor (see governor.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probe/governor.h"
#include "probe/resolve.h"
#include "probe/uprobe_set.h"
#include "util/util.h"

struct uprobe_governor {
	struct uprobe_governor_opts o;
	size_t n; /* probes */
	int ncpus;
	size_t stride; /* one CPU's value in a per-CPU lookup */
	/* Per probe, carved from one block that starts at rates. */
	struct uprobe_rate *rates;
	uint64_t *last;	   /* hit counts at the last tick */
	uint64_t *entries; /* hit counts now */
	size_t *pick;
	uint32_t *batch_keys;	   /* one read of the whole map per tick */
	unsigned char *batch_vals; /* n x ncpus values; NULL: one lookup per probe */
	unsigned char *one;	   /* ncpus values: one lookup */
	uint64_t t_start, t_last;
	double peak_pct;
	size_t ndetached;
};

static double probe_pct(double hits_per_s, double cost_ns)
{
	return hits_per_s * cost_ns / 1e9 * 100.0;
}

double uprobe_overhead_pct(const struct uprobe_rate *r, size_t n, double cost_ns)
{
	double pct = 0;

	for (size_t i = 0; i < n; i++)
		if (r[i].attached)
			pct += probe_pct(r[i].hits_per_s, cost_ns);
	return pct;
}

size_t uprobe_governor_pick(const struct uprobe_rate *r, size_t n, double cost_ns,
			    double budget_pct, size_t *pick)
{
	double pct = uprobe_overhead_pct(r, n, cost_ns);
	size_t npick = 0;

	while (pct > budget_pct) {
		size_t best = n;

		for (size_t i = 0; i < n; i++) {
			int taken = 0;

			if (!r[i].attached || r[i].hits_per_s <= 0)
				continue;
			for (size_t j = 0; j < npick; j++)
				taken |= pick[j] == i;
			if (!taken && (best == n || r[i].hits_per_s > r[best].hits_per_s))
				best = i;
		}
		if (best == n)
			break;
		pick[npick++] = best;
		pct -= probe_pct(r[best].hits_per_s, cost_ns);
	}
	return npick;
}

void uprobe_governor__free(struct uprobe_governor *g)
{
	if (!g)
		return;
	free(g->rates);
	free(g->batch_vals);
	free(g->one);
	free(g);
}

/* The per-probe arrays, in one block (their alignments fall in this
 * order). */
static int alloc_arrays(struct uprobe_governor *g, size_t n)
{
	unsigned char *p = calloc(n, sizeof(*g->rates) + sizeof(*g->last) + sizeof(*g->entries) +
					     sizeof(*g->pick) + sizeof(*g->batch_keys));

	if (!p)
		return -ENOMEM;
	g->rates = (struct uprobe_rate *)p;
	p += n * sizeof(*g->rates);
	g->last = (uint64_t *)p;
	p += n * sizeof(*g->last);
	g->entries = (uint64_t *)p;
	p += n * sizeof(*g->entries);
	g->pick = (size_t *)p;
	p += n * sizeof(*g->pick);
	g->batch_keys = (uint32_t *)p;
	return 0;
}

static void read_entries(struct uprobe_governor *g);

struct uprobe_governor *uprobe_governor__new(const struct uprobe_governor_opts *o)
{
	struct uprobe_governor *g = calloc(1, sizeof(*g));
	size_t n;

	if (!g)
		goto nomem;
	g->o = *o;
	g->n = n = uprobe_set__cnt(o->set);
	g->ncpus = libbpf_num_possible_cpus();
	if (g->ncpus <= 0) {
		errno = g->ncpus ? -g->ncpus : EINVAL;
		ebprof_err("cannot start the overhead governor: %s", strerror(errno));
		free(g);
		return NULL;
	}
	/* Per-CPU values come 8-byte aligned. */
	g->stride = (o->value_size + 7) & ~(size_t)7;
	n = n ? n : 1;
	g->batch_vals = calloc(n * (size_t)g->ncpus, g->stride);
	g->one = calloc((size_t)g->ncpus, g->stride);
	if (alloc_arrays(g, n) || !g->batch_vals || !g->one) {
		uprobe_governor__free(g);
		goto nomem;
	}
	for (size_t i = 0; i < g->n; i++)
		g->rates[i].attached = 1;
	/* Hits before the start are not the first interval's. */
	read_entries(g);
	memcpy(g->last, g->entries, g->n * sizeof(*g->last));
	g->t_start = g->t_last = now_ns();
	return g;
nomem:
	ebprof_err("cannot start the overhead governor: %s", strerror(ENOMEM));
	errno = ENOMEM;
	return NULL;
}

/* Sum over CPUs of the hit count in ncpus values at v. */
static uint64_t sum_counts(const struct uprobe_governor *g, const unsigned char *v)
{
	uint64_t sum = 0, c;

	for (int cpu = 0; cpu < g->ncpus; cpu++) {
		memcpy(&c, v + (size_t)cpu * g->stride + g->o.count_off, sizeof(c));
		sum += c;
	}
	return sum;
}

/* Hit counts of every probe into g->entries: one batch read of the stats
 * map per tick (thousands of probes, ten ticks a second), else, when the
 * kernel refuses batches, one lookup per attached probe. */
static void read_entries(struct uprobe_governor *g)
{
	uint32_t count = (uint32_t)g->n, next;
	int err;

	if (g->batch_vals && g->o.stats_base) {
		free(g->batch_vals);
		g->batch_vals = NULL;
	}
	if (g->batch_vals) {
		err = bpf_map_lookup_batch(g->o.stats_fd, NULL, &next, g->batch_keys, g->batch_vals,
					   &count, NULL);
		if ((err == 0 || err == -ENOENT) && count == g->n) {
			for (size_t i = 0; i < g->n; i++)
				g->entries[i] = sum_counts(g, g->batch_vals + i * (size_t)g->ncpus *
										      g->stride);
			return;
		}
		ebprof_verbose(1,
			       "%s: batch read of the stats map refused (%s): one "
			       "lookup per probe",
			       g->o.name, strerror(err ? -err : EIO));
		free(g->batch_vals);
		g->batch_vals = NULL;
	}
	for (uint32_t i = 0; i < g->n; i++) {
		uint32_t key = g->o.stats_base + i;

		g->entries[i] = g->rates[i].attached && bpf_map_lookup_elem(g->o.stats_fd, &key,
									    g->one) == 0 ?
					sum_counts(g, g->one) :
					g->last[i];
	}
}

/* Stops probes pick[0..n). */
static void detach(struct uprobe_governor *g, size_t n)
{
	uint64_t t0 = now_ns();
	int err;

	/* Mark first: their entries stop counting at once, and frames this
	 * leaves behind are not mismatches. */
	for (size_t k = 0; k < n; k++) {
		if (g->o.detached)
			__atomic_store_n(&g->o.detached[g->pick[k]], 1, __ATOMIC_SEQ_CST);
		g->rates[g->pick[k]].attached = 0;
	}
	g->ndetached += n;
	err = uprobe_set__detach(g->o.set, g->pick, n);
	ebprof_verbose(1, "%s: detached %zu function%s in %.3f s", g->o.name, n, n == 1 ? "" : "s",
		       (double)(now_ns() - t0) / 1e9);
	if (err)
		strlist_addf(g->o.notes,
			     "could not remove the probes of %zu detached function%s "
			     "(%s): their counts stop, but their probes cost until removed",
			     n, n == 1 ? "" : "s", strerror(-err));
}

void uprobe_governor__tick(struct uprobe_governor *g)
{
	uint64_t now = now_ns();
	double dt = g ? (double)(now - g->t_last) / 1e9 : 0, pct;
	size_t npick;

	if (!g || dt < 0.05)
		return;
	read_entries(g);
	for (size_t i = 0; i < g->n; i++) {
		if (!g->rates[i].attached)
			continue;
		g->rates[i].hits_per_s = (double)(g->entries[i] - g->last[i]) / dt;
		g->last[i] = g->entries[i];
	}
	g->t_last = now;
	pct = uprobe_overhead_pct(g->rates, g->n, g->o.cost_ns);
	if (pct > g->peak_pct)
		g->peak_pct = pct;
	if (g->o.budget_pct <= 0 || pct <= g->o.budget_pct)
		return;
	npick = uprobe_governor_pick(g->rates, g->n, g->o.cost_ns, g->o.budget_pct, g->pick);
	for (size_t k = 0; k < npick; k++) {
		size_t i = g->pick[k];
		const struct uprobe_target *t = uprobe_set__target(g->o.set, i);

		if (strlist_addf(g->o.notes,
				 "detached %s (%s) at %.1f s: %.0f calls/s cost an "
				 "estimated %.1f%% of one CPU (total %.1f%% > --max-overhead "
				 "%g%%); its counts stop there",
				 t->name, t->module, (double)(now - g->t_start) / 1e9,
				 g->rates[i].hits_per_s,
				 probe_pct(g->rates[i].hits_per_s, g->o.cost_ns), pct,
				 g->o.budget_pct) == 0)
			ebprof_verbose(1, "%s: %s", g->o.name, g->o.notes->v[g->o.notes->n - 1]);
	}
	if (npick)
		detach(g, npick);
}

void uprobe_governor__set_cost(struct uprobe_governor *g, double cost_ns)
{
	if (g && cost_ns > 0)
		g->o.cost_ns = cost_ns;
}

double uprobe_governor__peak_pct(const struct uprobe_governor *g)
{
	return g ? g->peak_pct : 0;
}

size_t uprobe_governor__ndetached(const struct uprobe_governor *g)
{
	return g ? g->ndetached : 0;
}
