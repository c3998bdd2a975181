/* mem collector, report side: the sites, blocks and totals maps (read,
 * never written) -> a profile: one sample per allocation site with the six
 * metrics, the site tables (heaptrack_print's sections: most calls, peak
 * consumers, leaks, temporaries) and the totals. */
#include <errno.h>
#include <inttypes.h>
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
#include "symbols/stack.h"
#include "symbols/symbolize.h"
#include "unwind/share.h"
#include "util/bpfmap.h"

const struct pmetric_def mem_metrics[] = {
	[MEM_M_ALLOC_BYTES] = { "alloc_bytes", "bytes", "bytes allocated" },
	[MEM_M_ALLOC_COUNT] = { "alloc_count", "count", "allocation calls" },
	[MEM_M_INUSE_BYTES] = { "inuse_bytes", "bytes", "bytes outstanding (not freed)" },
	[MEM_M_INUSE_COUNT] = { "inuse_count", "count", "blocks outstanding" },
	[MEM_M_TEMP_COUNT] = { "temp_count", "count",
			       "temporary allocations (freed before the thread's next one)" },
	[MEM_M_PEAK_BYTES] = { "peak_bytes", "bytes", "bytes outstanding at the peak" },
};

enum {
	C_ALLOCS,
	C_BYTES,
	C_FREES,
	C_INUSE_COUNT,
	C_INUSE_BYTES,
	C_TEMPS,
	C_PEAK,
	C_FAILED,
	C_LEAK_COUNT,
	C_LEAK_BYTES,
	C_AGE,
	C_RISES,
	C_GROWTH,
	C_SIZES,
	C_CALLER,
	C_FUNC,
	C_MODULE,
	C_N
};

static const struct pcol_def columns[C_N] = {
	[C_ALLOCS] = { "allocs", "allocs", "count", COL_INT },
	[C_BYTES] = { "bytes", "bytes", "bytes", COL_INT },
	[C_FREES] = { "frees", "frees", "count", COL_INT },
	[C_INUSE_COUNT] = { "inuse_count", "in use", "count", COL_INT },
	[C_INUSE_BYTES] = { "inuse_bytes", "in use bytes", "bytes", COL_INT },
	[C_TEMPS] = { "temps", "temporary", "count", COL_INT },
	[C_PEAK] = { "peak_bytes", "at peak", "bytes", COL_INT },
	[C_FAILED] = { "failed", "failed", "count", COL_INT },
	[C_LEAK_COUNT] = { "leak_count", "leaked", "count", COL_INT },
	[C_LEAK_BYTES] = { "leak_bytes", "leaked bytes", "bytes", COL_INT },
	[C_AGE] = { "age", "oldest", "ns", COL_INT },
	[C_RISES] = { "rises", "rose in", "count", COL_INT },
	[C_GROWTH] = { "growth_per_s", "grows/s", "bytes", COL_INT },
	[C_SIZES] = { "sizes", "sizes (from:count)", "", COL_STR },
	[C_CALLER] = { "caller", "caller", "", COL_STR },
	[C_FUNC] = { "function", "via", "", COL_STR },
	[C_MODULE] = { "module", "module", "", COL_STR },
};

/* Each section: its table and the column a row needs nonzero to be in it. */
static const struct ptable_def t_sites = { "mem_sites", "Allocation sites (most calls)",
					   columns,	C_N,
					   C_ALLOCS,	0 };
static const struct ptable_def t_peak = { "mem_peak", "Peak memory consumers", columns, C_N, C_PEAK,
					  0 };
static const struct ptable_def t_leaks = {
	"mem_leaks", "Leaks (outstanding, older than --min-age)", columns, C_N, C_LEAK_BYTES, 0
};
static const struct ptable_def t_temps = { "mem_temporary", "Most temporary allocations",
					   columns,	    C_N,
					   C_TEMPS,	    0 };

static const struct ptable_def t_growth = {
	"mem_growth", "Growing sites (outstanding bytes rising across intervals)",
	columns,      C_N,
	C_GROWTH,     0
};

const struct ptable_def *const mem_tables[] = { &t_sites, &t_peak,   &t_leaks,
						&t_temps, &t_growth, NULL };
static const int section_col[] = { C_ALLOCS, C_PEAK, C_LEAK_BYTES, C_TEMPS, C_GROWTH };

struct site {
	uint64_t id;
	struct mem_site v;
	int64_t peak;			 /* bytes at the total's peak */
	uint64_t leak_count, leak_bytes; /* outstanding older than --min-age */
	uint64_t oldest;		 /* age of the oldest of those, ns */
	struct mem_growth_site growth;
};

struct mem_rep {
	struct mem_state *s;
	struct profile *p;
	struct stack_conv conv;
	struct mem_totals tot;
	struct site *sites;
	size_t n, cap;
	uint64_t now;
};

static int cmp_site(const void *a, const void *b)
{
	uint64_t x = ((const struct site *)a)->id, y = ((const struct site *)b)->id;

	return x < y ? -1 : x > y;
}

static int read_sites(struct mem_rep *r)
{
	int fd = bpf_map__fd(r->s->skel->maps.sites), started = 0;
	struct mem_site v;
	uint64_t id;

	while (map_next_entry(fd, &id, sizeof(id), &started, &v)) {
		struct site *st;

		if (array_grow((void **)&r->sites, &r->cap, r->n + 1, sizeof(*r->sites)))
			return -ENOMEM;
		st = &r->sites[r->n++];
		memset(st, 0, sizeof(*st));
		st->id = id;
		st->v = v;
		/* Unchanged since the last peak: its bytes now are its bytes then. */
		st->peak = v.peak_seq == r->tot.peak_seq ? v.peak_bytes : v.cur_bytes;
		mem_growth__site(r->s->growth, id, &st->growth);
	}
	qsort(r->sites, r->n, sizeof(*r->sites), cmp_site);
	return 0;
}

/* Outstanding blocks older than --min-age, per site. */
static void read_leaks(struct mem_rep *r)
{
	int fd = bpf_map__fd(r->s->skel->maps.blocks), started = 0;
	uint64_t min_age = r->s->o->min_age_ns, addr;
	struct mem_block b;

	while (map_next_entry(fd, &addr, sizeof(addr), &started, &b)) {
		struct site key = { .id = b.site }, *st;
		uint64_t age = r->now > b.ts ? r->now - b.ts : 0;

		st = bsearch(&key, r->sites, r->n, sizeof(*r->sites), cmp_site);
		if (!st || age < min_age)
			continue;
		st->leak_count++;
		st->leak_bytes += b.size;
		if (age > st->oldest)
			st->oldest = age;
	}
}

/* "16:100 1024:3": the histogram's buckets (lower bound: count), most
 * frequent first, at most four. */
static void sizes_text(const struct mem_site *v, char *buf, size_t len)
{
	uint64_t h[MEM_HIST_BUCKETS];
	size_t used = 0;

	memcpy(h, v->hist, sizeof(h));
	buf[0] = '\0';
	for (int k = 0; k < 4; k++) {
		int best = -1;

		for (int b = 0; b < MEM_HIST_BUCKETS; b++)
			if (h[b] && (best < 0 || h[b] > h[best]))
				best = b;
		if (best < 0)
			break;
		used += (size_t)snprintf(buf + used, len - used, "%s%" PRIu64 ":%" PRIu64,
					 k ? " " : "", best ? (uint64_t)1 << (best - 1) : 0,
					 (uint64_t)h[best]);
		h[best] = 0;
		if (used >= len)
			break;
	}
}

/* One site's row, computed once for every section it goes in. */
struct site_row {
	int64_t v[C_SIZES];
	int failed, growing;
	char sizes[128];
	const char *caller, *func, *module;
};

static void site_row(struct mem_rep *r, const struct site *st, const struct mem_stack *stk,
		     struct site_row *row)
{
	struct symres caller = { 0 }, fn = { 0 };
	int64_t *v = row->v;

	memset(v, 0, sizeof(row->v));
	v[C_ALLOCS] = (int64_t)st->v.allocs;
	v[C_BYTES] = (int64_t)st->v.bytes;
	v[C_FREES] = (int64_t)st->v.frees;
	v[C_INUSE_COUNT] = st->v.cur_count;
	v[C_INUSE_BYTES] = st->v.cur_bytes;
	v[C_TEMPS] = (int64_t)st->v.temps;
	v[C_PEAK] = st->peak;
	v[C_FAILED] = (int64_t)st->v.failed;
	v[C_LEAK_COUNT] = (int64_t)st->leak_count;
	v[C_LEAK_BYTES] = (int64_t)st->leak_bytes;
	v[C_AGE] = (int64_t)st->oldest;
	v[C_RISES] = st->growth.rises;
	v[C_GROWTH] = st->growth.growing ? (int64_t)(st->growth.bytes_per_s + 0.5) : 0;
	row->failed = st->v.failed != 0;
	row->growing = st->growth.growing;
	if (stk && stk->n > 0)
		symbolize_user(r->s->sym, stk->ips[0], &fn);
	if (stk && stk->n > 1)
		symbolize_user(r->s->sym, stack_user_pc((const uint64_t *)stk->ips, 1), &caller);
	sizes_text(&st->v, row->sizes, sizeof(row->sizes));
	row->caller = caller.func ? caller.func : "[unknown]";
	row->func = fn.func ? fn.func : "[unknown]";
	row->module = caller.module ? caller.module : "";
}

/* Adds row to section t when it has some of the section's column need. */
static int add_row(struct ptable *t, int need, const struct site_row *row)
{
	int64_t r, v[C_SIZES];

	memcpy(v, row->v, sizeof(v));
	/* A growing site's row even when its rate rounds to 0 bytes/s. */
	if (need == C_GROWTH && row->growing && !v[C_GROWTH])
		v[C_GROWTH] = 1;
	if (!v[need] && !(need == C_ALLOCS && row->failed))
		return 0;
	r = ptable_add_row(t);
	if (r < 0)
		return (int)r;
	for (int c = 0; c < C_SIZES; c++)
		ptable_cell(t, (size_t)r, (size_t)c)->i = v[c];
	if (ptable_set_str(t, (size_t)r, C_SIZES, row->sizes) ||
	    ptable_set_str(t, (size_t)r, C_CALLER, row->caller) ||
	    ptable_set_str(t, (size_t)r, C_FUNC, row->func) ||
	    ptable_set_str(t, (size_t)r, C_MODULE, row->module))
		return -ENOMEM;
	return 0;
}

/* The site's sample (its stack, root first) and its rows in each section. */
static int add_site(struct mem_rep *r, struct ptable *const *tabs, const struct site *st)
{
	struct mem_stack stk;
	struct stackbuf sb = { 0 };
	struct site_row row;
	int64_t vals[MEM_METRICS_N];
	int have, err = 0;

	have = bpf_map_lookup_elem(bpf_map__fd(r->s->skel->maps.stacks), &st->id, &stk) == 0;
	if (have && stk.n > MEM_STACK_DEPTH)
		stk.n = MEM_STACK_DEPTH;
	stack_from_ips(&r->conv, &sb, 0, (const uint64_t *)stk.ips, have ? stk.n : 0);
	vals[MEM_M_ALLOC_BYTES] = (int64_t)st->v.bytes;
	vals[MEM_M_ALLOC_COUNT] = (int64_t)st->v.allocs;
	vals[MEM_M_INUSE_BYTES] = st->v.cur_bytes;
	vals[MEM_M_INUSE_COUNT] = st->v.cur_count;
	vals[MEM_M_TEMP_COUNT] = (int64_t)st->v.temps;
	vals[MEM_M_PEAK_BYTES] = st->peak;
	err = sb.err ? sb.err : profile_add_sample(r->p, sb.frames, (uint32_t)sb.n, vals);
	free(sb.frames);
	site_row(r, st, have ? &stk : NULL, &row);
	for (size_t i = 0; i < ARRAY_SIZE(section_col) && !err; i++)
		err = add_row(tabs[i], section_col[i], &row);
	return err;
}

static uint64_t read_counter(struct mem_rep *r, uint32_t which)
{
	return map_percpu_u64_sum(bpf_map__fd(r->s->skel->maps.counters), which, r->s->ncpus);
}

/* Allocator calls of the target's live threads still between entry and
 * return: not booked. */
static uint64_t read_inflight(struct mem_rep *r)
{
	int fd = bpf_map__fd(r->s->skel->maps.calls), started = 0;
	struct mem_call c;
	uint32_t tid;
	uint64_t n = 0;

	while (map_next_entry(fd, &tid, sizeof(tid), &started, &c))
		n += task_alive(r->s->t->pid, (pid_t)tid) != 0;
	return n;
}

/* What the governor did, and the allocation calls made while the
 * allocation functions were detached, as far as free() saw them: each
 * free of a block ebprof did not see allocated is an allocation it missed,
 * or a block from before the attach (their rate before the detach,
 * extrapolated, is the stated error). */
static int add_governed(struct mem_rep *r, uint64_t calls)
{
	struct mem_state *s = r->s;
	struct profile *p = r->p;
	uint64_t end = s->t_free_detach ? s->t_free_detach : r->now;
	uint64_t unknown = s->t_free_detach ? s->unknown_at_free_detach : r->tot.unknown_frees;
	uint64_t missed = unknown - s->unknown_at_detach;
	double before, after, err_calls;
	int err = 0;

	if (!s->t_detach)
		return 0;
	before = (double)(s->t_detach - s->t_attach);
	after = (double)(end - s->t_detach);
	err_calls = before > 0 ? (double)s->unknown_at_detach * after / before : 0;
	err |= profile_info_int(p, "detached_at_ns", "allocation functions detached after attach",
				"ns", (int64_t)(s->t_detach - s->t_attach));
	err |= profile_info_int(p, "free_detached_at_ns", "free() detached after attach (0: never)",
				"ns",
				s->t_free_detach ? (int64_t)(s->t_free_detach - s->t_attach) : 0);
	err |= profile_info_int(p, "alloc_calls_est",
				"allocation calls, estimated (counted + frees of unseen blocks)",
				"count", (int64_t)(calls + missed));
	err |= profile_info_int(p, "alloc_calls_est_err",
				"estimate's error (frees of pre-attach blocks, at their rate)",
				"count", (int64_t)(err_calls + 0.999));
	return err;
}

static int add_info(struct mem_rep *r)
{
	struct mem_state *s = r->s;
	struct profile *p = r->p;
	uint64_t calls = 0, bytes = 0, frees = 0, temps = 0, failed = 0, leaks = 0, leak_b = 0;
	double secs = (double)(r->now - s->t_attach) / 1e9;
	int64_t inuse_n = 0, growing = 0;
	int err = 0;

	for (size_t i = 0; i < r->n; i++) {
		growing += r->sites[i].growth.growing;
		calls += r->sites[i].v.allocs;
		bytes += r->sites[i].v.bytes;
		frees += r->sites[i].v.frees;
		temps += r->sites[i].v.temps;
		failed += r->sites[i].v.failed;
		leaks += r->sites[i].leak_count;
		leak_b += r->sites[i].leak_bytes;
		inuse_n += r->sites[i].v.cur_count;
	}
	err |= profile_info_str(p, "allocator", "allocator probed", s->allocator);
	if (s->cxx.n)
		err |= profile_info_str(p, "cxx_allocator", "operator new/delete probed",
					s->cxx.v[0].module);
	err |= profile_info_int(p, "functions", "allocator functions probed", "count",
				(int64_t)(s->tg.n + s->cxx.n));
	err |= profile_info_str(p, "attach", "probe attach mechanism",
				uprobe_attach_kind_name(uprobe_set__kind(s->allocs)));
	err |= profile_info_int(p, "alloc_calls", "allocation calls", "count", (int64_t)calls);
	err |= profile_info_double(p, "alloc_per_s", "allocation calls per second", "count",
				   secs > 0 ? (double)calls / secs : 0);
	err |= profile_info_int(p, "alloc_bytes", "bytes allocated", "bytes", (int64_t)bytes);
	err |= profile_info_int(p, "failed_allocs", "failed allocation calls (not leaks)", "count",
				(int64_t)failed);
	err |= profile_info_int(p, "frees", "frees of blocks allocated while attached", "count",
				(int64_t)frees);
	err |= profile_info_int(p, "temporaries", "temporary allocations", "count", (int64_t)temps);
	err |= profile_info_int(p, "peak_bytes", "peak outstanding bytes", "bytes",
				r->tot.peak_bytes);
	err |= profile_info_int(
		p, "peak_at_ns", "peak reached after attach", "ns",
		r->tot.peak_ts > s->t_attach ? (int64_t)(r->tot.peak_ts - s->t_attach) : 0);
	err |= profile_info_int(p, "inuse_bytes", "outstanding bytes at the end", "bytes",
				r->tot.cur_bytes);
	err |= profile_info_int(p, "inuse_count", "outstanding blocks at the end", "count",
				inuse_n);
	err |= profile_info_int(p, "min_age_ns", "leak age threshold (--min-age)", "ns",
				(int64_t)s->o->min_age_ns);
	err |= profile_info_int(p, "leak_bytes", "leaked bytes (outstanding, older than it)",
				"bytes", (int64_t)leak_b);
	err |= profile_info_int(p, "leak_count", "leaked blocks", "count", (int64_t)leaks);
	err |= profile_info_int(p, "growth_samples", "growth samples of outstanding bytes per site",
				"count", (int64_t)mem_growth__samples(s->growth));
	err |= profile_info_int(p, "growth_period_ns", "growth sample period (-i, else 1 s)", "ns",
				(int64_t)mem_growth__period(s->growth));
	err |= profile_info_int(p, "growing_sites", "growing sites", "count", growing);
	err |= profile_info_int(p, "unknown_frees", "frees of blocks allocated before attach",
				"count", (int64_t)r->tot.unknown_frees);
	err |= profile_info_int(p, "null_frees", "free(NULL) calls", "count",
				(int64_t)r->tot.null_frees);
	err |= profile_info_double(p, "probe_cost_ns",
				   "probe cost per allocation call (entry+return probes)", "ns",
				   s->cost.ns);
	err |= profile_info_str(p, "probe_cost_source", "probe cost source", s->cost.source);
	err |= profile_info_double(p, "probe_cost_free_ns", "probe cost per free() (entry probe)",
				   "ns", s->free_cost.ns);
	err |= profile_info_double(p, "frees_per_alloc", "free() calls per allocation call",
				   "count", s->frees_per_alloc);
	err |= profile_info_double(p, "governor_cost_ns",
				   "governor's cost per allocation call (its probes + its frees)",
				   "ns", s->gov_cost_ns);
	err |= profile_info_double(p, "peak_overhead_pct",
				   "estimated overhead (% of one CPU, peak 100 ms interval)", "%",
				   uprobe_governor__peak_pct(s->gov));
	err |= profile_info_double(p, "max_overhead_pct", "overhead budget (--max-overhead)", "%",
				   s->o->max_overhead);
	err |= profile_info_int(p, "detached", "allocation functions detached by the governor",
				"count", (int64_t)uprobe_governor__ndetached(s->gov));
	err |= add_governed(r, calls);
#define MEM_LOSS_INFO_(name, key, label) \
	err |= profile_info_int(p, key, label, "count", (int64_t)read_counter(r, MEM_CNT_##name));
	MEM_STATS(MEM_LOSS_INFO_)
#undef MEM_LOSS_INFO_
	err |= profile_info_int(p, "lost_inflight",
				"allocator calls in flight at stop (not booked)", "count",
				(int64_t)read_inflight(r));
	err |= profile_info_int(p, "lost_truncated", "stacks deeper than the limit (truncated)",
				"count", (int64_t)r->conv.truncated);
	err |= profile_info_int(p, "lost_bad_walk", "stacks cut at a bad return address", "count",
				(int64_t)r->conv.bad_walks);
	return err ? -ENOMEM : 0;
}

static int add_notes(struct mem_rep *r)
{
	struct mem_state *s = r->s;
	int err;

	err = 0;
	if (s->o->unwind == UNWIND_MODE_FP)
		err = profile_note(
			r->p, "stacks are taken at the allocator's entry: frame 2 (the caller) "
			      "is the return address at [rsp], deeper frames come from the "
			      "frame-pointer walk");
	if (!err)
		err = profile_note(
			r->p,
			"growth: a site is growing when its outstanding bytes rose in at "
			"least %d sample intervals and never fell since they first rose; "
			"grows/s is that rise per second",
			MEM_GROWTH_MIN_RISES);
	for (size_t i = 0; i < s->tg.notes.n && !err; i++)
		err = profile_note(r->p, "%s", s->tg.notes.v[i]);
	for (size_t i = 0; i < s->cxx.notes.n && !err; i++)
		err = profile_note(r->p, "%s", s->cxx.notes.v[i]);
	for (size_t i = 0; i < s->notes.n && !err; i++)
		err = profile_note(r->p, "%s", s->notes.v[i]);
	if (!err && uprobe_governor__ndetached(s->gov))
		err = profile_note(
			r->p,
			"the governor detached allocation functions (above): calls after that "
			"are not counted, so per-site counts and bytes are exact up to it and "
			"lower bounds for the run; alloc_calls_est adds one allocation per free() "
			"of a block not seen allocated, while free() stayed probed (error: "
			"alloc_calls_est_err; blocks allocated after the detach and never freed "
			"are not in it)");
	if (!err && uprobe_governor__ndetached(s->free_gov))
		err = profile_note(r->p,
				   "free() was detached too: frees after that are not seen, so "
				   "outstanding, leak and peak figures are upper bounds, and "
				   "alloc_calls_est stops at free()'s detach: a lower bound "
				   "for the run");
	else if (!err && uprobe_governor__ndetached(s->gov))
		err = profile_note(r->p,
				   "free() stayed probed: outstanding, peak and leak figures are "
				   "exact for the blocks counted");
	return err;
}

int mem_report(void *state, struct profile **out)
{
	struct mem_state *s = state;
	struct mem_rep r = { .s = s, .now = s->t_stop ? s->t_stop : now_ns() };
	struct ptable *tabs[ARRAY_SIZE(section_col)];
	uint32_t zero = 0;
	int err = 0;

	r.p = profile_new("mem", "Memory: allocations by stack (allocator uprobes)");
	if (!r.p)
		return -ENOMEM;
	s->sym = unwind_share__symbolizer(s->t->share);
	if (!s->sym)
		err = -ENOMEM;
	if (!err)
		err = profile_add_metric_defs(r.p, mem_metrics, MEM_METRICS_N);
	for (size_t i = 0; i < ARRAY_SIZE(section_col) && !err; i++) {
		if (!(tabs[i] = profile_table_def(r.p, mem_tables[i], NULL))) {
			err = -ENOMEM;
		} else if (section_col[i] != C_GROWTH) {
			/* The growth columns belong to the growth table's text. */
			ptable_hide_col(tabs[i], C_RISES);
			ptable_hide_col(tabs[i], C_GROWTH);
		}
	}
	if (!err)
		err = stack_conv_init(&r.conv, r.p, s->sym, -1, MEM_STACK_DEPTH);
	if (!err && bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.totals), &zero, &r.tot) != 0)
		err = -errno;
	if (!err)
		err = read_sites(&r);
	if (!err)
		read_leaks(&r);
	for (size_t i = 0; i < r.n && !err; i++)
		err = add_site(&r, tabs, &r.sites[i]);
	if (!err)
		err = add_info(&r);
	if (!err)
		err = add_notes(&r);
	if (!err)
		err = profile_build_graph(r.p);
	stack_conv_free(&r.conv);
	free(r.sites);
	if (err) {
		profile_free(r.p);
		return err;
	}
	*out = r.p;
	return 0;
}
