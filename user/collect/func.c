/* func collector: an exact per-function profile in the manner of Python's
 * cProfile/pstats, for native code.  Every function matching -f gets a
 * uprobe at entry and a uretprobe at return (bpf/func.bpf.c keeps a shadow
 * stack per thread).  The probe layer (user/probe/) resolves -f patterns,
 * places the probes (as uprobe_multi links where the kernel has them),
 * calibrates their cost, and governs: it detaches the hottest functions
 * when the estimated probe cost exceeds --max-overhead. */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/func_hist.h"
#include "func.skel.h"
#include "probe/calibrate.h"
#include "probe/governor.h"
#include "probe/resolve.h"
#include "probe/uprobe_set.h"
#include "run/collector.h"
#include "run/features.h"
#include "run/target.h"
#include "util/bpfmap.h"
#include "util/util.h"

enum { M_TIME, M_CALLS };

/* Table columns, in order. */
enum {
	C_NCALLS,
	C_CALLS,
	C_PRIM,
	C_TOTTIME,
	C_PERCALL,
	C_CUMTIME,
	C_TOTTIME_RAW,
	C_CUMTIME_RAW,
	C_CUMPERCALL,
	C_MIN,
	C_MAX,
	C_P50,
	C_P90,
	C_P99,
	C_INFLIGHT,
	C_INFLIGHT_NS,
	C_NAME,
	C_MODULE,
	C_N
};

static const struct pmetric_def func_metrics[] = {
	[M_TIME] = { "time", "ns", "time in the function: self = tottime, total = cumtime" },
	[M_CALLS] = { "calls", "count", "finished calls" },
};

static const struct pcol_def columns[C_N] = {
	/* pstats' "total/primitive" when they differ; the numbers behind it
	 * are the (text-hidden) calls and prim columns. */
	[C_NCALLS] = { "ncalls", "ncalls", "count", COL_STR, 0, 1 + C_CALLS },
	[C_CALLS] = { "calls", "calls", "count", COL_INT, 1 },
	[C_PRIM] = { "prim", "primcalls", "count", COL_INT, 1 },
	[C_TOTTIME] = { "tottime", "tottime", "ns", COL_INT },
	[C_PERCALL] = { "percall", "percall", "ns", COL_INT },
	[C_CUMTIME] = { "cumtime", "cumtime", "ns", COL_INT },
	/* As measured, probe cost included (json; text shows the corrected). */
	[C_TOTTIME_RAW] = { "tottime_raw", "raw tottime", "ns", COL_INT, 1 },
	[C_CUMTIME_RAW] = { "cumtime_raw", "raw cumtime", "ns", COL_INT, 1 },
	[C_CUMPERCALL] = { "cumpercall", "percall", "ns", COL_INT },
	[C_MIN] = { "min", "min", "ns", COL_INT },
	[C_MAX] = { "max", "max", "ns", COL_INT },
	[C_P50] = { "p50", "p50", "ns", COL_INT },
	[C_P90] = { "p90", "p90", "ns", COL_INT },
	[C_P99] = { "p99", "p99", "ns", COL_INT },
	[C_INFLIGHT] = { "inflight", "inflight", "count", COL_INT },
	[C_INFLIGHT_NS] = { "inflight_time", "inflight time", "ns", COL_INT },
	[C_NAME] = { "name", "function", "", COL_STR },
	[C_MODULE] = { "module", "module", "", COL_STR },
};

static const struct ptable_def function_table = {
	"functions", "Functions (cProfile-style)", columns, C_N, C_CUMTIME, 0,
};

static const struct ptable_def *const func_tables[] = { &function_table, NULL };

struct func_state {
	const struct options *o;
	struct target *t;
	struct func_bpf *skel;
	struct uprobe_targets tg;
	size_t n;		   /* traced functions; id n is calibration */
	struct uprobe_set *probes; /* probe i is function i, cookie i */
	int attached;		   /* uprobe_set__attach ran */
	struct bpf_link *exit_link;
	struct uprobe_governor *gov;
	uint64_t t_attach;
	struct uprobe_cost cost;
	/* The cost measured again at stop (0: not measured): how far the
	 * probe cost moved during the run, what the corrected times can be
	 * off by per traced call. */
	double cost_end_ns;
	double cost_inside, cost_call; /* removed from times; 0 with --raw-times */
	uint64_t detached_frames;      /* frames of detached functions on live stacks */
	struct strlist notes;
	char **bound; /* [i]: a note when the target binds function i to another file, or NULL */
	int ncpus;
	double attach_s;
};

static int read_stats(struct func_state *s, uint32_t id, struct func_stats *sum);
static int calib_inside(void *ctx, uint64_t *ns, uint64_t *calls);

static void func_close(void *state)
{
	struct func_state *s = state;

	if (!s)
		return;
	if (s->probes) {
		uint64_t t0 = now_ns();

		uprobe_set__free(s->probes);
		if (s->attached)
			ebprof_verbose(1, "func: removed the probes in %.3f s",
				       (double)(now_ns() - t0) / 1e9);
	}
	uprobe_cost_wait(&s->cost);
	uprobe_governor__free(s->gov);
	bpf_link__destroy(s->exit_link);
	func_bpf__destroy(s->skel);
	for (size_t i = 0; s->bound && i < s->tg.n; i++)
		free(s->bound[i]);
	free(s->bound);
	uprobe_targets_free(&s->tg);
	strlist_free(&s->notes);
	free(s);
}

/* The probe set on the opened object: function i is probe i, cookie i. */
static int new_probes(struct func_state *s)
{
	struct uprobe_set_opts so = {
		.mode = UPROBE_SET_AUTO,
		.entry = s->skel->progs.func_entry,
		.ret = s->o->count_only ? NULL : s->skel->progs.func_return,
		.pid = s->t->pid,
	};
	enum uprobe_attach_kind kind;
	int err;

	s->probes = uprobe_set__new(&so);
	if (!s->probes)
		return -errno;
	kind = uprobe_set__kind(s->probes);
	ebprof_verbose(1, "func: attach: %s%s%s", uprobe_attach_kind_name(kind),
		       kind == UPROBE_ATTACH_MULTI ? "" : ": ", uprobe_set__why(s->probes));
	for (size_t i = 0; i < s->tg.n; i++) {
		err = uprobe_set__add(s->probes, &s->tg.v[i], (uint32_t)i);
		if (err < 0) {
			ebprof_err("cannot set up the func probes: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

static int load_bpf(struct func_state *s)
{
	int err;

	s->skel = func_bpf__open();
	if (!s->skel) {
		err = -errno;
		collector_bpf_error("func", 0, err);
		return err;
	}
	s->skel->rodata->count_only = s->o->count_only != 0;
	err = new_probes(s);
	if (err)
		return err;
	err = bpf_map__set_max_entries(s->skel->maps.stats, (uint32_t)s->n + 1);
	if (!err)
		err = bpf_map__set_max_entries(s->skel->maps.hist, (uint32_t)s->n + 1);
	if (!err)
		err = func_bpf__load(s->skel);
	if (err) {
		collector_bpf_error("func", 1, err);
		return err;
	}
	return 0;
}

/* --callers/--callees name a traced function: a typo fails now, not after
 * the whole collection. */
static int check_graph_option(const struct uprobe_targets *tg, const char *opt, const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < tg->n; i++)
		if (!strcmp(tg->v[i].name, name))
			return 0;
	ebprof_usage("%s %s: not among the traced functions (-f)", opt, name);
	return -EINVAL;
}

/* Library functions checked for a binding elsewhere (each check reads the
 * target's libraries in the dynamic linker's order until one defines it). */
#define FUNC_BOUND_CHECKS 32

/* 1 when paths a and b are one file. */
static int same_file(const char *a, const char *b)
{
	struct stat x, y;

	return !stat(a, &x) && !stat(b, &y) && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* The note for function i, bound to b instead: a running target's library
 * is found by its short name, a launched one's preload only by its path. */
static int binding_note(struct func_state *s, size_t i, const struct uprobe_where *w,
			const struct uprobe_target *b)
{
	const struct uprobe_target *f = &s->tg.v[i];
	const char *so = strstr(b->module, ".so");
	int lib_len = so ? (int)(so - b->module) : (int)strlen(b->module);

	if (asprintf(&s->bound[i],
		     "%s in %s got no calls: the target binds %s to %s, which comes first in "
		     "the dynamic linker's order; trace it with -f '%.*s:%s'",
		     f->name, f->module, f->name, b->module,
		     w->launched ? (int)strlen(b->path) : lib_len,
		     w->launched ? b->path : b->module, f->name) < 0) {
		s->bound[i] = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* For the traced library functions (the first FUNC_BOUND_CHECKS): the file
 * the target binds the name to, when it is another library than the one
 * traced (malloc traced in libc, bound to a preloaded libjemalloc), so a
 * function that gets no calls can say where they went.  Checked while the
 * target's maps and environment can still be read. */
static int find_bindings(struct func_state *s, const struct uprobe_where *w)
{
	size_t checks = 0;

	s->bound = calloc(s->tg.n ? s->tg.n : 1, sizeof(*s->bound));
	if (!s->bound)
		return -ENOMEM;
	for (size_t i = 0; i < s->tg.n && checks < FUNC_BOUND_CHECKS; i++) {
		const struct uprobe_target *f = &s->tg.v[i];
		struct uprobe_targets b = { 0 };

		if (same_file(f->path, w->exe_open))
			continue;
		checks++;
		if (uprobe_resolve_binding(w, f->name, &b) == 0 && b.n &&
		    !same_file(b.v[0].path, f->path) && binding_note(s, i, w, &b.v[0])) {
			uprobe_targets_free(&b);
			return -ENOMEM;
		}
		uprobe_targets_free(&b);
	}
	return 0;
}

/* What func.bpf.c and func_attach use from the kernel (--count-only
 * attaches no sched_process_exit program). */
static const enum feature func_needs[] = {
	FEAT_BTF,
	FEAT_UPROBE,
	FEAT_RAW_TRACEPOINT,
	FEAT_TP_SCHED_PROCESS_EXIT,
};

static int func_open(void **statep, const struct options *o, struct target *t)
{
	struct uprobe_where w = {
		.pid = t->pid, .exe = t->exe, .exe_open = t->exe_open, .launched = t->launched
	};
	struct func_state *s;
	uint64_t t0 = now_ns();
	int err;

	if (o->nfunc_patterns == 0) {
		ebprof_usage("the func report needs -f PATTERN[,PATTERN...]");
		return -EINVAL;
	}
	if (features_require("the func report", func_needs,
			     ARRAY_SIZE(func_needs) - (o->count_only ? 2 : 0)))
		return -ENOTSUP;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = o;
	s->t = t;
	s->ncpus = libbpf_num_possible_cpus();
	err = s->ncpus > 0 ? 0 : s->ncpus;
	if (!err)
		err = uprobe_resolve(&w, o->func_patterns, (size_t)o->nfunc_patterns,
				     FUNC_MAX_FUNCS, &s->tg);
	if (err)
		goto fail;
	err = find_bindings(s, &w);
	if (err)
		goto fail;
	ebprof_verbose(2, "func: resolved %zu functions in %.3f s", s->tg.n,
		       (double)(now_ns() - t0) / 1e9);
	err = check_graph_option(&s->tg, "--callers", o->callers);
	if (!err)
		err = check_graph_option(&s->tg, "--callees", o->callees);
	if (err)
		goto fail;
	s->n = s->tg.n;
	t0 = now_ns();
	err = load_bpf(s);
	if (err)
		goto fail;
	ebprof_verbose(2, "func: loaded BPF in %.3f s", (double)(now_ns() - t0) / 1e9);
	t0 = now_ns();
	uprobe_cost_get(&s->cost, s->probes, (uint32_t)s->n,
			&(struct uprobe_inside){ .read = calib_inside, .ctx = s }, o->probe_cost_ns,
			o->probe_cost_from, &s->notes);
	ebprof_verbose(1,
		       "func: %zu functions, probe cost %.0f ns per call, %.0f ns of it inside "
		       "the call (%s in %.3f s)",
		       s->n, s->cost.ns, s->cost.inside_ns, s->cost.source,
		       (double)(now_ns() - t0) / 1e9);
	if (!o->raw_times && !o->count_only) {
		s->cost_inside = s->cost.inside_ns;
		s->cost_call = s->cost.ns;
		s->skel->bss->cost_inside = (uint64_t)(s->cost_inside + 0.5);
		s->skel->bss->cost_call = (uint64_t)(s->cost_call + 0.5);
	}
	*statep = s;
	return 0;
fail:
	func_close(s);
	return err;
}

/* The governor, from the moment the probes are on. */
static int start_governor(struct func_state *s)
{
	struct uprobe_governor_opts go = {
		.name = "func",
		.set = s->probes,
		.stats_fd = bpf_map__fd(s->skel->maps.stats),
		.value_size = sizeof(struct func_stats),
		.count_off = offsetof(struct func_stats, entries),
		.cost_ns = s->cost.ns,
		.budget_pct = s->o->max_overhead,
		.detached = s->skel->bss->detached,
		.notes = &s->notes,
	};

	s->gov = uprobe_governor__new(&go);
	if (!s->gov)
		return -errno; /* one line printed */
	return 0;
}

static int func_attach(void *state)
{
	struct func_state *s = state;
	uint64_t t0 = now_ns();
	int err;

	if (!s->o->count_only) {
		s->exit_link = bpf_program__attach(s->skel->progs.func_thread_exit);
		if (!s->exit_link) {
			err = -errno;
			ebprof_err("cannot attach to the sched_process_exit tracepoint: %s",
				   strerror(-err));
			return err;
		}
	}
	s->attached = 1;
	err = uprobe_set__attach(s->probes, &s->skel->bss->generation);
	if (err)
		return err;
	s->t_attach = now_ns();
	s->attach_s = (double)(s->t_attach - t0) / 1e9;
	ebprof_verbose(1, "func: attached %zu functions in %.3f s (%s)", s->n, s->attach_s,
		       uprobe_attach_kind_name(uprobe_set__kind(s->probes)));
	return start_governor(s);
}

/* Sum over CPUs of function id's counters. */
static int read_stats(struct func_state *s, uint32_t id, struct func_stats *sum)
{
	struct func_stats pc[s->ncpus];

	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.stats), &id, pc) != 0)
		return -errno;
	for (int c = 0; c < s->ncpus; c++) {
		sum->entries += pc[c].entries;
		sum->ncalls += pc[c].ncalls;
		sum->prim += pc[c].prim;
		sum->tottime += pc[c].tottime;
		sum->cumtime += pc[c].cumtime;
		sum->abandoned += pc[c].abandoned;
		sum->returns += pc[c].returns;
		sum->kids += pc[c].kids;
		sum->cumdesc += pc[c].cumdesc;
		if (pc[c].min && (!sum->min || pc[c].min < sum->min))
			sum->min = pc[c].min;
		if (pc[c].max > sum->max)
			sum->max = pc[c].max;
	}
	return 0;
}

/* The calibration call's timed ns and calls (function id n), for the
 * inner part of the probe cost. */
static int calib_inside(void *ctx, uint64_t *ns, uint64_t *calls)
{
	struct func_state *s = ctx;
	struct func_stats st;
	int err = read_stats(s, (uint32_t)s->n, &st);

	*ns = st.tottime;
	*calls = st.ncalls;
	return err;
}

static int func_tick(void *state)
{
	struct func_state *s = state;

	uprobe_governor__tick(s->gov);
	return 0;
}

/* ---- report ---- */

struct fn_data {
	struct func_stats st;
	uint64_t tottime, cumtime; /* st's, probe cost removed */
	uint64_t inflight, inflight_ns;
	uint64_t p50, p90, p99;
	int64_t node;
};

/* Sum over CPUs of function id's histogram; pc has room for one per CPU. */
static int read_hist(struct func_state *s, uint32_t id, struct func_hist *pc, uint64_t *buckets)
{
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.hist), &id, pc) != 0)
		return -errno;
	for (uint32_t b = 0; b < FUNC_HIST_BUCKETS; b++) {
		buckets[b] = 0;
		for (int c = 0; c < s->ncpus; c++)
			buckets[b] += pc[c].b[b];
	}
	return 0;
}

/* Calls still on a shadow stack: in flight, not counted as finished.  A
 * frame of a detached function is a call that was in flight when it was
 * detached (its return is no longer seen): counted as such, not in flight. */
static void read_inflight(struct func_state *s, struct fn_data *d)
{
	int fd = bpf_map__fd(s->skel->maps.shadow);
	struct func_shadow *sh = malloc(sizeof(*sh));
	uint32_t key;
	uint64_t now = now_ns();
	int started = 0;

	s->detached_frames = 0;
	if (!sh)
		return;
	while (map_next_entry(fd, &key, sizeof(key), &started, sh)) {
		if ((pid_t)sh->tgid != s->t->pid || !task_alive(s->t->pid, (pid_t)key))
			continue;
		for (uint32_t i = 0; i < sh->depth && i < FUNC_MAX_DEPTH; i++) {
			const struct func_frame *f = &sh->frames[i];

			if (f->func >= s->n)
				continue;
			if (s->skel->bss->detached[f->func]) {
				s->detached_frames++;
				continue;
			}
			d[f->func].inflight++;
			if (now > f->start)
				d[f->func].inflight_ns += now - f->start;
		}
	}
	free(sh);
}

static uint64_t read_counter(struct func_state *s, uint32_t which)
{
	return map_percpu_u64_sum(bpf_map__fd(s->skel->maps.counters), which, s->ncpus);
}

/* ns less a probe cost, never below 0. */
static uint64_t less_cost(uint64_t ns, double cost)
{
	return (double)ns > cost ? ns - (uint64_t)(cost + 0.5) : 0;
}

/* Removes the probe cost from a function's times, as Python's profile
 * removes its calibrated bias: each call holds the inner part of its own
 * probes; its caller's own time holds the rest of them (the inner part is
 * in the callee's duration, which tottime already excludes); cumtime holds
 * all of every traced call below. */
static void correct_times(const struct func_state *s, struct fn_data *d)
{
	d->tottime = less_cost(d->st.tottime,
			       (double)d->st.ncalls * s->cost_inside +
				       (double)d->st.kids * (s->cost_call - s->cost_inside));
	d->cumtime = less_cost(d->st.cumtime, (double)d->st.prim * s->cost_inside +
						      (double)d->st.cumdesc * s->cost_call);
}

/* A loss counter: the BPF side's, and for detached calls also the frames
 * still on shadow stacks (read_inflight). */
static uint64_t loss_count(struct func_state *s, uint32_t which)
{
	return read_counter(s, which) + (which == FUNC_CNT_DETACHED ? s->detached_frames : 0);
}

static int add_node(struct profile *p, const struct uprobe_target *f, struct fn_data *d,
		    int count_only)
{
	int64_t fr = profile_frame(p, FRAME_USER, f->name, f->module, 0);
	uint32_t frame;
	int64_t vals[2];
	struct pnode *nd;

	if (fr < 0)
		return (int)fr;
	frame = (uint32_t)fr;
	d->node = profile_node(p, frame);
	if (d->node < 0)
		return (int)d->node;
	nd = &p->nodes[d->node];
	nd->calls = count_only ? d->st.entries : d->st.ncalls;
	nd->self[M_TIME] = (int64_t)d->tottime;
	nd->total[M_TIME] = (int64_t)d->cumtime;
	nd->self[M_CALLS] = nd->total[M_CALLS] = (int64_t)nd->calls;
	/* A flat sample per function (its own time), for stack writers. */
	vals[M_TIME] = (int64_t)d->tottime;
	vals[M_CALLS] = (int64_t)nd->calls;
	return profile_add_sample(p, &frame, 1, vals);
}

static int add_edges(struct func_state *s, struct profile *p, const struct fn_data *d)
{
	int fd = bpf_map__fd(s->skel->maps.edges);
	struct func_edge_key key;
	struct func_edge_val pc[s->ncpus];
	int started = 0;

	while (map_next_entry(fd, &key, sizeof(key), &started, pc)) {
		uint64_t calls = 0, cum = 0, cumcalls = 0, cumdesc = 0;
		int64_t e;

		if (key.caller >= s->n || key.callee >= s->n || d[key.caller].node < 0 ||
		    d[key.callee].node < 0)
			continue;
		for (int c = 0; c < s->ncpus; c++) {
			calls += pc[c].calls;
			cum += pc[c].cumtime;
			cumcalls += pc[c].cumcalls;
			cumdesc += pc[c].cumdesc;
		}
		cum = less_cost(cum,
				(double)cumcalls * s->cost_inside + (double)cumdesc * s->cost_call);
		e = profile_edge(p, (uint32_t)d[key.caller].node, (uint32_t)d[key.callee].node);
		if (e < 0)
			return (int)e;
		p->edges[e].calls += calls;
		p->edges[e].total[M_TIME] += (int64_t)cum;
		p->edges[e].total[M_CALLS] += (int64_t)calls;
	}
	return 0;
}

static int add_row(struct ptable *t, const struct uprobe_target *f, const struct fn_data *d,
		   int count_only)
{
	int64_t r = ptable_add_row(t), v[C_N] = { 0 };
	char ncalls[48];
	uint64_t calls = count_only ? d->st.entries : d->st.ncalls;

	if (r < 0)
		return (int)r;
	v[C_CALLS] = (int64_t)calls;
	v[C_PRIM] = (int64_t)d->st.prim;
	v[C_TOTTIME] = (int64_t)d->tottime;
	v[C_PERCALL] = d->st.ncalls ? (int64_t)(d->tottime / d->st.ncalls) : 0;
	v[C_CUMTIME] = (int64_t)d->cumtime;
	v[C_CUMPERCALL] = d->st.prim ? (int64_t)(d->cumtime / d->st.prim) : 0;
	v[C_TOTTIME_RAW] = (int64_t)d->st.tottime;
	v[C_CUMTIME_RAW] = (int64_t)d->st.cumtime;
	v[C_MIN] = (int64_t)d->st.min;
	v[C_MAX] = (int64_t)d->st.max;
	v[C_P50] = (int64_t)d->p50;
	v[C_P90] = (int64_t)d->p90;
	v[C_P99] = (int64_t)d->p99;
	v[C_INFLIGHT] = (int64_t)d->inflight;
	v[C_INFLIGHT_NS] = (int64_t)d->inflight_ns;
	for (size_t c = C_CALLS; c < C_NAME; c++)
		ptable_cell(t, (size_t)r, c)->i = v[c];
	if ((uint64_t)v[C_PRIM] != calls)
		snprintf(ncalls, sizeof(ncalls), "%" PRIu64 "/%" PRId64, calls, v[C_PRIM]);
	else
		snprintf(ncalls, sizeof(ncalls), "%" PRIu64, calls);
	if (ptable_set_str(t, (size_t)r, C_NCALLS, ncalls) ||
	    ptable_set_str(t, (size_t)r, C_NAME, f->name) ||
	    ptable_set_str(t, (size_t)r, C_MODULE, f->module))
		return -ENOMEM;
	return 0;
}

static int add_info(struct func_state *s, struct profile *p, const struct fn_data *d)
{
	uint64_t hits = 0, elapsed = now_ns() - s->t_attach, calls = 0;
	double pct;
	int err = 0;

	for (size_t i = 0; i < s->n; i++) {
		hits += d[i].st.entries + d[i].st.returns;
		calls += d[i].st.entries;
	}
	pct = elapsed ? (double)calls * s->cost.ns / (double)elapsed * 100.0 : 0;
	err |= profile_info_int(p, "functions", "functions traced", "count", (int64_t)s->n);
	if (s->tg.dropped)
		err |= profile_info_int(p, "functions_dropped",
					"functions matched but not traced (limit)", "count",
					(int64_t)s->tg.dropped);
	err |= profile_info_str(p, "attach", "probe attach mechanism",
				uprobe_attach_kind_name(uprobe_set__kind(s->probes)));
	err |= profile_info_int(p, "attach_ns", "time to attach probes", "ns",
				(int64_t)(s->attach_s * 1e9));
	err |= profile_info_int(p, "probe_hits", "probe hits", "count", (int64_t)hits);
	err |= profile_info_double(p, "probe_cost_ns",
				   s->o->count_only ? "probe cost per call (entry probe)" :
						      "probe cost per call (entry+return probes)",
				   "ns", s->cost.ns);
	err |= profile_info_str(p, "probe_cost_source", "probe cost source", s->cost.source);
	if (s->cost_end_ns > 0)
		err |= profile_info_double(p, "probe_cost_end_ns",
					   "probe cost per call, measured again at the end (mean)",
					   "ns", s->cost_end_ns);
	if (!s->o->count_only) {
		err |= profile_info_double(p, "probe_cost_inside_ns",
					   "probe cost inside the call's own time", "ns",
					   s->cost.inside_ns);
		err |= profile_info_str(p, "times", "times",
					s->cost_call > 0 ? "corrected for probe cost" :
							   "raw (probe cost included)");
	}
	err |= profile_info_double(p, "overhead_pct",
				   "estimated overhead (% of one CPU, run average)", "%", pct);
	err |= profile_info_double(p, "peak_overhead_pct",
				   "estimated overhead (% of one CPU, peak 100 ms interval)", "%",
				   uprobe_governor__peak_pct(s->gov));
	err |= profile_info_double(p, "max_overhead_pct", "overhead budget (--max-overhead)", "%",
				   s->o->max_overhead);
	err |= profile_info_int(p, "detached", "functions detached by the governor", "count",
				(int64_t)uprobe_governor__ndetached(s->gov));
	if (!s->o->count_only) {
		/* The loss counters, in enum func_counter's order. */
#define FUNC_LOSS_INFO_(name, key, label) \
	err |= profile_info_int(p, key, label, "count", (int64_t)loss_count(s, FUNC_CNT_##name));
		FUNC_LOSSES(FUNC_LOSS_INFO_)
#undef FUNC_LOSS_INFO_
	}
	return err ? -ENOMEM : 0;
}

/* Measures the probe cost again, as it is at the end of the run: a busy
 * machine makes probes dearer or cheaper than at start, and the report
 * says by how much the correction may then be off. */
static void func_stop(void *state)
{
	struct func_state *s = state;
	struct uprobe_calib *pending = NULL;
	double ns = 0, in = 0, avg = 0;

	if (strcmp(s->cost.source, "calibrated") || s->o->count_only)
		return;
	/* The mean, not the lower quartile the correction uses: on a busy
	 * machine probes cost what the rounds that lost the CPU cost too. */
	if (uprobe_calibrate(s->probes, (uint32_t)s->n,
			     &(struct uprobe_inside){ .read = calib_inside, .ctx = s }, &ns, &in,
			     &avg, &pending) == 0 &&
	    avg > 0)
		s->cost_end_ns = avg;
	uprobe_calib_wait(pending);
	ebprof_verbose(1, "func: probe cost at the end %.0f ns per call (%.0f at start)",
		       s->cost_end_ns, s->cost.ns);
}

/* The notes for traced functions that got no calls because the target
 * binds them to another library. */
static int note_bindings(const struct func_state *s, struct profile *p, const struct fn_data *d)
{
	int err = 0;

	for (size_t i = 0; i < s->n && !err; i++)
		if (s->bound[i] && !d[i].st.entries && !d[i].st.ncalls && !d[i].inflight)
			err = profile_note(p, "%s", s->bound[i]);
	return err;
}

static int func_report(void *state, struct profile **out)
{
	struct func_state *s = state;
	struct fn_data *d = calloc(s->n ? s->n : 1, sizeof(*d));
	uint64_t *buckets = calloc(FUNC_HIST_BUCKETS, sizeof(*buckets));
	struct func_hist *pch = calloc((size_t)s->ncpus, sizeof(*pch));
	struct profile *p = profile_new("func", "Exact function profile (uprobes)");
	struct ptable *t = NULL;
	uint64_t t0 = now_ns();
	int err = 0;

	if (!d || !buckets || !pch || !p) {
		err = -ENOMEM;
		goto out;
	}
	if (profile_add_metric_defs(p, func_metrics, ARRAY_SIZE(func_metrics)) ||
	    !(t = profile_table_def(p, &function_table, NULL))) {
		err = -ENOMEM;
		goto out;
	}
	if (!s->o->count_only)
		read_inflight(s, d);
	for (size_t i = 0; i < s->n && !err; i++) {
		d[i].node = -1;
		err = read_stats(s, (uint32_t)i, &d[i].st);
		if (err || (!d[i].st.entries && !d[i].st.ncalls && !d[i].inflight))
			continue;
		correct_times(s, &d[i]);
		if (d[i].st.ncalls && read_hist(s, (uint32_t)i, pch, buckets) == 0) {
			d[i].p50 = func_hist_percentile(buckets, FUNC_HIST_BUCKETS, 50, d[i].st.min,
							d[i].st.max);
			d[i].p90 = func_hist_percentile(buckets, FUNC_HIST_BUCKETS, 90, d[i].st.min,
							d[i].st.max);
			d[i].p99 = func_hist_percentile(buckets, FUNC_HIST_BUCKETS, 99, d[i].st.min,
							d[i].st.max);
		}
		err = add_node(p, &s->tg.v[i], &d[i], s->o->count_only);
		if (!err)
			err = add_row(t, &s->tg.v[i], &d[i], s->o->count_only);
	}
	if (!err && !s->o->count_only)
		err = add_edges(s, p, d);
	if (!err)
		err = add_info(s, p, d);
	if (!err)
		err = note_bindings(s, p, d);
	for (size_t i = 0; i < s->tg.notes.n && !err; i++)
		err = profile_note(p, "%s", s->tg.notes.v[i]);
	if (!err && s->tg.dropped)
		err = profile_note(p,
				   "patterns matched %zu more functions than the limit of %d; "
				   "those are not traced",
				   s->tg.dropped, FUNC_MAX_FUNCS);
	for (size_t i = 0; i < s->notes.n && !err; i++)
		err = profile_note(p, "%s", s->notes.v[i]);
	if (!err && s->o->count_only)
		err = profile_note(p, "--count-only: entry probes only; times are not measured");
	if (!err && s->cost_call > 0)
		err = profile_note(
			p,
			"times are corrected for probe cost: %.0f ns removed per call "
			"from its own time, %.0f ns more per traced callee call from its "
			"caller's (--raw-times: as measured; json keeps tottime_raw, "
			"cumtime_raw)",
			s->cost_inside, s->cost_call - s->cost_inside);
	if (!err && s->cost_call > 0 && s->cost_end_ns > 0 &&
	    (s->cost_end_ns > 1.1 * s->cost.ns || s->cost_end_ns < 0.9 * s->cost.ns))
		err = profile_note(
			p,
			"the probe cost moved during the run, %.0f ns per call at start, "
			"%.0f at the end (a busy machine): corrected times may be off by "
			"up to the difference per traced call",
			s->cost.ns, s->cost_end_ns);
out:
	free(d);
	free(buckets);
	free(pch);
	if (err) {
		profile_free(p);
		return err;
	}
	ebprof_verbose(2, "func: read the maps in %.3f s", (double)(now_ns() - t0) / 1e9);
	*out = p;
	return 0;
}

const struct collector_ops func_collector = {
	.name = "func",
	.desc = "exact per-function calls and times of -f functions (uprobes)",
	.default_on = 0,
	.tables = func_tables,
	.metrics = func_metrics,
	.nmetrics = ARRAY_SIZE(func_metrics),
	.open = func_open,
	.attach = func_attach,
	.tick = func_tick,
	.stop = func_stop,
	.report = func_report,
	.close = func_close,
};
