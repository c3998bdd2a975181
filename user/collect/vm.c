/* vm collector, the light layer of the memory report: the target's
 * resident set (anon, file, shmem, swap) and page faults read from /proc
 * every tick into a timeline, and its address-space growth by user stack
 * from raw tracepoints (bpf/vm.bpf.c): bytes mapped and unmapped by
 * brk/mmap/munmap/mremap, and first-touch page faults (bytes touched).
 * No uprobe: its cost follows how fast memory grows, not how often malloc
 * is called. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/vm_proc.h"
#include "run/collector.h"
#include "run/features.h"
#include "symbols/stack.h"
#include "symbols/symbolize.h"
#include "model/functable.h"
#include "util/bpfmap.h"
#include "util/util.h"
#include "vm.h"
#include "vm.skel.h"
#include "unwind/share.h"

enum { M_TOUCHED, M_MAPPED, M_UNMAPPED, M_FAULTS, M_N };

static const struct pmetric_def vm_metrics[M_N] = {
	[M_TOUCHED] = { "touched_bytes", "bytes",
			"new pages touched (first-touch page faults x page size)" },
	[M_MAPPED] = { "mapped_bytes", "bytes",
		       "anonymous memory mapped: mmap, brk, mremap growth" },
	[M_UNMAPPED] = { "unmapped_bytes", "bytes", "memory unmapped: munmap, brk, mremap shrink" },
	[M_FAULTS] = { "faults", "count", "first-touch page faults" },
};

enum { S_TOUCHED, S_MAPPED, S_UNMAPPED, S_FAULTS, S_CALLS, S_FUNC, S_CALLER, S_N };

static const struct pcol_def site_cols[S_N] = {
	[S_TOUCHED] = { "touched_bytes", "touched", "bytes", COL_INT },
	[S_MAPPED] = { "mapped_bytes", "mapped", "bytes", COL_INT },
	[S_UNMAPPED] = { "unmapped_bytes", "unmapped", "bytes", COL_INT },
	[S_FAULTS] = { "faults", "faults", "count", COL_INT },
	[S_CALLS] = { "map_calls", "map calls", "count", COL_INT },
	[S_FUNC] = { "function", "function", "", COL_STR },
	[S_CALLER] = { "caller", "caller", "", COL_STR },
};

static const struct ptable_def site_table = {
	"sites",   "Growth by site (leaf function and caller; largest first)",
	site_cols, S_N,
	S_TOUCHED, 0,
};

enum { R_TIME, R_RSS, R_ANON, R_FILE, R_SHMEM, R_SWAP, R_MINFLT, R_MAJFLT, R_NET, R_N };

static const struct pcol_def rss_cols[R_N] = {
	[R_TIME] = { "time", "time", "ns", COL_INT },
	[R_RSS] = { "rss", "rss", "bytes", COL_INT },
	[R_ANON] = { "anon", "anon", "bytes", COL_INT },
	[R_FILE] = { "file", "file", "bytes", COL_INT },
	[R_SHMEM] = { "shmem", "shmem", "bytes", COL_INT },
	[R_SWAP] = { "swap", "swap", "bytes", COL_INT },
	[R_MINFLT] = { "minflt", "minor faults", "count", COL_INT },
	[R_MAJFLT] = { "majflt", "major faults", "count", COL_INT },
	[R_NET] = { "mapped_net", "mapped-unmapped", "bytes", COL_INT },
};

/* Every reading (json); the text shows the first -n rows. */
static const struct ptable_def timeline_table = {
	"timeline", "Resident set over time (time since start; faults since start)",
	rss_cols,   R_N,
	R_TIME,	    1,
};
/* A compact curve: start, evenly spaced readings, the peak, the end. */
static const struct ptable_def curve_table = {
	"rss_curve", "Resident set: start, curve, peak, end", rss_cols, R_N, R_TIME, 1,
};

static const struct pcol_def function_cols[] = {
	FUNCTABLE_VALUE_COLS,
	{ "mapped_bytes", "mapped", "bytes", COL_INT, 0, 0, "mapped_bytes" },
	FUNCTABLE_NAME_COLS,
};
static const struct ptable_def function_table = {
	"functions",
	"Functions (growth by the metric, inclusive of callees in total)",
	function_cols,
	ARRAY_SIZE(function_cols),
	0,
	0,
};

static const struct ptable_def *const vm_tables[] = { &site_table, &timeline_table, &curve_table,
						      &function_table, NULL };

#define VM_CURVE_POINTS 10

struct vm_state {
	struct vm_bpf *skel;
	const struct options *opts;
	struct target *target;
	struct symbolizer *sym; /* the run's (the target's share), from the first report */
	struct vm_proc proc;	/* the target's /proc files, kept open */
	struct vm_reading *rd;	/* the timeline */
	int64_t *net;		/* mapped - unmapped at each reading */
	size_t n, cap, net_cap;
	struct vm_reading first; /* at attach: faults are shown since then */
	int have_first;
	uint64_t t_start, t_stop;
	uint64_t read_errors; /* readings /proc would not give (not the process's exit) */
	int no_faults;	      /* the kernel lacks page_fault_user: no first touches */
};

static void vm_close(void *state);

/* Without these nothing works; page_fault_user (x86 only) gives the
 * first touches, dropped with a note where the kernel lacks it. */
static const enum feature vm_needs[] = { FEAT_BTF, FEAT_RAW_TRACEPOINT, FEAT_TP_SYS_ENTER,
					 FEAT_TP_SYS_EXIT };

static int vm_open(void **statep, const struct options *o, struct target *t)
{
	struct vm_state *s;
	int err;

	if (features_require("the vm report", vm_needs, ARRAY_SIZE(vm_needs)))
		return -ENOTSUP;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = o;
	s->target = t;
	vm_proc_init(&s->proc, t->pid);
	s->skel = vm_bpf__open();
	if (!s->skel) {
		err = -errno;
		collector_bpf_error("vm", 0, err);
		goto fail;
	}
	s->skel->rodata->targ_tgid = (uint32_t)t->pid;
	s->skel->rodata->unwind_mode = (uint32_t)o->unwind;
	if (!feature_has(FEAT_TP_PAGE_FAULT_USER)) {
		bpf_program__set_autoload(s->skel->progs.vm_fault, false);
		s->no_faults = 1;
	}
	err = unwind_share__use(t->share, s->skel->obj);
	if (err)
		goto fail;
	err = vm_bpf__load(s->skel);
	if (err) {
		collector_bpf_error("vm", 1, err);
		goto fail;
	}
	*statep = s;
	return 0;
fail:
	vm_close(s);
	return err;
}

static int64_t mapped_net(struct vm_state *s)
{
	const volatile struct vml_totals *tot = &s->skel->bss->totals;

	return (int64_t)(tot->mapped_bytes - tot->unmapped_bytes);
}

/* One reading into the timeline; nothing when the process is gone. */
static int take_reading(struct vm_state *s)
{
	struct vm_reading r;
	int err = vm_proc_read(&s->proc, &r);

	if (err) {
		if (err != -ESRCH)
			s->read_errors++;
		return 0;
	}
	if (!s->have_first) {
		/* Faults count from this first reading; for a launched command
		 * from its start (its fork included: a few faults of ebprof's
		 * copy before exec), however late the first tick comes. */
		s->first = r;
		if (s->target->launched)
			s->first.minflt = s->first.majflt = 0;
		s->have_first = 1;
	}
	if (array_grow((void **)&s->rd, &s->cap, s->n + 1, sizeof(*s->rd)) ||
	    array_grow((void **)&s->net, &s->net_cap, s->n + 1, sizeof(*s->net)))
		return -ENOMEM;
	s->net[s->n] = mapped_net(s);
	s->rd[s->n++] = r;
	return 0;
}

static int vm_attach(void *state)
{
	struct vm_state *s = state;
	int err = vm_bpf__attach(s->skel);

	if (err) {
		ebprof_err("cannot attach the vm tracepoints: %s", strerror(-err));
		return err;
	}
	s->t_start = now_ns();
	/* A launched command is still ebprof's copy before exec: its first
	 * reading comes from the first tick. */
	return s->target->launched ? 0 : take_reading(s);
}

static int vm_tick(void *state)
{
	struct vm_state *s = state;

	if (s->t_stop)
		return 0;
	if (take_reading(s))
		return -ENOMEM;
	return 0;
}

static void vm_stop(void *state)
{
	struct vm_state *s = state;

	if (s->t_stop)
		return;
	take_reading(s);
	s->skel->bss->stopped = 1;
	vm_bpf__detach(s->skel);
	s->t_stop = now_ns();
}

static uint64_t rss_of(const struct vm_reading *r)
{
	return r->anon + r->file + r->shmem;
}

static int add_reading(struct ptable *t, struct vm_state *s, size_t i)
{
	const struct vm_reading *r = &s->rd[i];
	int64_t row = ptable_add_row(t);

	if (row < 0)
		return (int)row;
	ptable_cell(t, (size_t)row, R_TIME)->i = (int64_t)(r->t_ns - s->t_start);
	ptable_cell(t, (size_t)row, R_RSS)->i = (int64_t)rss_of(r);
	ptable_cell(t, (size_t)row, R_ANON)->i = (int64_t)r->anon;
	ptable_cell(t, (size_t)row, R_FILE)->i = (int64_t)r->file;
	ptable_cell(t, (size_t)row, R_SHMEM)->i = (int64_t)r->shmem;
	ptable_cell(t, (size_t)row, R_SWAP)->i = (int64_t)r->swap;
	ptable_cell(t, (size_t)row, R_MINFLT)->i = (int64_t)(r->minflt - s->first.minflt);
	ptable_cell(t, (size_t)row, R_MAJFLT)->i = (int64_t)(r->majflt - s->first.majflt);
	ptable_cell(t, (size_t)row, R_NET)->i = s->net[i];
	return 0;
}

/* The timeline, its compact curve, and the start / peak / end facts. */
static int add_timeline(struct profile *p, struct vm_state *s)
{
	struct ptable *tl = profile_table_def(p, &timeline_table, NULL);
	struct ptable *cv = profile_table_def(p, &curve_table, NULL);
	size_t peak = 0, swap_peak = 0, last = 0;
	int err = 0;

	if (!tl || !cv)
		return -ENOMEM;
	for (size_t i = 0; i < s->n && !err; i++) {
		if (rss_of(&s->rd[i]) > rss_of(&s->rd[peak]))
			peak = i;
		if (s->rd[i].swap > s->rd[swap_peak].swap)
			swap_peak = i;
		err = add_reading(tl, s, i);
	}
	for (size_t k = 0; k < VM_CURVE_POINTS && s->n && !err; k++) {
		size_t i = k * (s->n - 1) / (VM_CURVE_POINTS - 1);

		if (k && i == last)
			continue;
		if (k && peak > last && peak < i)
			err = add_reading(cv, s, peak);
		if (!err)
			err = add_reading(cv, s, i);
		last = i;
	}
	if (err || !s->n)
		return err;
	const struct vm_reading *a = &s->rd[0], *z = &s->rd[s->n - 1], *pk = &s->rd[peak];
	err |= profile_info_int(p, "readings", "resident-set readings", "count", (int64_t)s->n);
	err |= profile_info_int(p, "rss_start", "resident set at start", "bytes",
				(int64_t)rss_of(a));
	err |= profile_info_int(p, "rss_peak", "resident set at its peak", "bytes",
				(int64_t)rss_of(pk));
	err |= profile_info_int(p, "rss_peak_at", "peak reached after", "ns",
				(int64_t)(pk->t_ns - s->t_start));
	err |= profile_info_int(p, "rss_end", "resident set at the end", "bytes",
				(int64_t)rss_of(z));
	err |= profile_info_int(p, "anon_peak", "anonymous at the peak", "bytes",
				(int64_t)pk->anon);
	err |= profile_info_int(p, "swap_peak", "swapped out at most", "bytes",
				(int64_t)s->rd[swap_peak].swap);
	err |= profile_info_int(p, "minflt", "minor page faults (all threads)", "count",
				(int64_t)(z->minflt - s->first.minflt));
	err |= profile_info_int(p, "majflt", "major page faults (all threads)", "count",
				(int64_t)(z->majflt - s->first.majflt));
	if (!err && s->rd[swap_peak].swap)
		err = profile_note(p, "the target had memory swapped out (up to %llu kB)",
				   (unsigned long long)(s->rd[swap_peak].swap / 1024));
	return err;
}

/* A copy of the name of the frame from_leaf frames above the leaf of a
 * root-first stack ("" past the root), or NULL when out of memory. */
static char *frame_name(const struct profile *p, const struct stackbuf *sb, size_t from_leaf)
{
	struct strbuf b = { 0 };
	char *s;

	if (from_leaf >= sb->n)
		return strdup("");
	s = strdup(pframe_str(&p->frames[sb->frames[sb->n - 1 - from_leaf]], &b, 0));
	strbuf_free(&b);
	return s;
}

/* One row of the sites table: the stacks with the same leaf function and
 * caller summed (a function touching memory at several places is one
 * site). */
struct site_row {
	char *func, *caller;
	int64_t v[S_CALLS + 1];
};

static int site_cmp(const void *a, const void *b)
{
	const struct site_row *x = a, *y = b;
	int c = strcmp(x->func, y->func);

	return c ? c : strcmp(x->caller, y->caller);
}

static int put_rows(struct ptable *t, struct site_row *r, size_t n)
{
	qsort(r, n, sizeof(*r), site_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		int64_t row;

		for (; j < n && !site_cmp(&r[i], &r[j]); j++)
			for (int c = 0; c <= S_CALLS; c++)
				r[i].v[c] += r[j].v[c];
		if ((row = ptable_add_row(t)) < 0)
			return (int)row;
		for (int c = 0; c <= S_CALLS; c++)
			ptable_cell(t, (size_t)row, (size_t)c)->i = r[i].v[c];
		if (ptable_set_str(t, (size_t)row, S_FUNC, r[i].func) ||
		    ptable_set_str(t, (size_t)row, S_CALLER, r[i].caller))
			return -ENOMEM;
		i = j;
	}
	return 0;
}

static int add_sites(struct profile *p, struct vm_state *s, struct stack_conv *conv)
{
	struct ptable *t = profile_table_def(p, &site_table, NULL);
	int fd = bpf_map__fd(s->skel->maps.sites), started = 0, err = 0;
	int sfd = bpf_map__fd(s->skel->maps.stacks);
	long page = sysconf(_SC_PAGESIZE);
	struct site_row *rows = NULL;
	size_t n = 0, cap = 0;
	struct vml_site v;
	uint64_t id;

	if (!t)
		return -ENOMEM;
	while (!err && map_next_entry(fd, &id, sizeof(id), &started, &v)) {
		struct vml_stack stk;
		struct stackbuf sb = { 0 };
		int64_t vals[M_N] = { 0 };
		int have = id > 1 && bpf_map_lookup_elem(sfd, &id, &stk) == 0;

		if (have && stk.n > VM_STACK_DEPTH)
			stk.n = VM_STACK_DEPTH;
		stack_from_ips(conv, &sb, 0, (const uint64_t *)stk.ips, have ? stk.n : 0);
		vals[M_TOUCHED] = (int64_t)v.faults * page;
		vals[M_MAPPED] = (int64_t)v.mapped_bytes;
		vals[M_UNMAPPED] = (int64_t)v.unmapped_bytes;
		vals[M_FAULTS] = (int64_t)v.faults;
		err = sb.err ? sb.err : profile_add_sample(p, sb.frames, (uint32_t)sb.n, vals);
		if (!err)
			err = array_grow((void **)&rows, &cap, n + 1, sizeof(*rows));
		if (!err) {
			struct site_row *r = &rows[n++];

			r->v[S_TOUCHED] = vals[M_TOUCHED];
			r->v[S_MAPPED] = vals[M_MAPPED];
			r->v[S_UNMAPPED] = vals[M_UNMAPPED];
			r->v[S_FAULTS] = vals[M_FAULTS];
			r->v[S_CALLS] = (int64_t)v.map_calls;
			r->func = frame_name(p, &sb, 0);
			r->caller = frame_name(p, &sb, 1);
			if (!r->func || !r->caller)
				err = -ENOMEM;
		}
		free(sb.frames);
	}
	if (!err)
		err = put_rows(t, rows, n);
	for (size_t i = 0; i < n; i++) {
		free(rows[i].func);
		free(rows[i].caller);
	}
	free(rows);
	return err;
}

static int add_info(struct profile *p, struct vm_state *s, const struct stack_conv *conv)
{
	struct vml_totals tot = s->skel->bss->totals;
	long page = sysconf(_SC_PAGESIZE);
	int err = 0;

	err |= profile_info_int(p, "duration", "duration", "ns",
				(int64_t)((s->t_stop ? s->t_stop : now_ns()) - s->t_start));
	err |= profile_info_int(p, "first_touch_faults", "first-touch page faults", "count",
				(int64_t)tot.faults);
	err |= profile_info_int(p, "touched_bytes", "new memory touched", "bytes",
				(int64_t)tot.faults * page);
	err |= profile_info_int(p, "mapped_bytes", "anonymous memory mapped", "bytes",
				(int64_t)tot.mapped_bytes);
	err |= profile_info_int(p, "unmapped_bytes", "memory unmapped", "bytes",
				(int64_t)tot.unmapped_bytes);
	err |= profile_info_int(p, "map_calls", "brk/mmap/munmap/mremap calls", "count",
				(int64_t)tot.map_calls);
#define VM_INFO(name, key, label)                       \
	err |= profile_info_int(p, key, label, "count", \
				(int64_t)s->skel->bss->stats[VM_STAT_##name]);
	VM_LOSSES(VM_INFO)
#undef VM_INFO
	err |= profile_info_int(p, "lost_truncated", "stacks deeper than the limit (truncated)",
				"count", (int64_t)conv->truncated);
	err |= profile_info_int(p, "lost_bad_walk", "stacks cut at a bad return address", "count",
				(int64_t)conv->bad_walks);
	err |= profile_info_int(p, "lost_readings", "resident-set readings /proc refused", "count",
				(int64_t)s->read_errors);
	if (!err && s->no_faults)
		err = profile_note(p, "this kernel lacks %s (%s): no first-touch faults by stack",
				   feature_key(FEAT_TP_PAGE_FAULT_USER),
				   feature_detail(FEAT_TP_PAGE_FAULT_USER));
	if (!err && s->opts->unwind == UNWIND_MODE_FP)
		err = profile_note(p, "user stacks are frame-pointer walks (--unwind fp): a "
				      "function without a frame pointer hides its caller");
	return err;
}

static int vm_report(void *state, struct profile **out)
{
	struct vm_state *s = state;
	struct profile *p = profile_new("vm", "Memory: resident set, faults, mapping growth");
	struct stack_conv conv;
	int metric, err;

	if (!p)
		return -ENOMEM;
	s->sym = unwind_share__symbolizer(s->target->share);
	if (!s->sym) {
		profile_free(p);
		return -ENOMEM;
	}
	err = profile_add_metric_defs(p, vm_metrics, M_N);
	metric = profile_metric_index(p, s->opts->metric ? s->opts->metric : "touched_bytes");
	p->default_metric = metric < 0 ? M_TOUCHED : metric;
	if (!err)
		err = stack_conv_init(&conv, p, s->sym, -1, VM_STACK_DEPTH);
	if (err) {
		profile_free(p);
		return err;
	}
	err = add_sites(p, s, &conv);
	if (!err)
		err = profile_build_graph(p);
	if (!err)
		err = profile_function_table(p, &function_table, p->default_metric);
	if (!err)
		err = add_timeline(p, s);
	if (!err)
		err = add_info(p, s, &conv);
	stack_conv_free(&conv);
	if (err) {
		profile_free(p);
		return err;
	}
	*out = p;
	return 0;
}

static void vm_close(void *state)
{
	struct vm_state *s = state;

	if (!s)
		return;
	vm_bpf__destroy(s->skel);
	vm_proc_close(&s->proc);
	free(s->rd);
	free(s->net);
	free(s);
}

const struct collector_ops vm_collector = {
	.name = "vm",
	.desc = "memory: resident set, faults, mapping growth by stack (no uprobes)",
	.default_on = 1,
	.tables = vm_tables,
	.metrics = vm_metrics,
	.nmetrics = M_N,
	.default_metric = M_TOUCHED,
	.attach_at_load = 1,
	.open = vm_open,
	.attach = vm_attach,
	.tick = vm_tick,
	.stop = vm_stop,
	.report = vm_report,
	.close = vm_close,
};
