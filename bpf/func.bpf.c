// SPDX-License-Identifier: GPL-2.0
/* Exact per-function profile: a uprobe at every traced function's entry and
 * a uretprobe at its return, each carrying the function id as bpf cookie
 * (low 32 bits) and its links' generation (high 32 bits): hits count
 * through the probe layer's generation filter (uprobe_gen.bpf.h).
 * A per-thread shadow stack gives cProfile semantics: tottime excludes
 * traced callees, cumtime counts only the outermost active frame of a
 * function, primitive calls are the non-recursive ones. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "func.h"
#include "uprobe_gen.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool count_only = false;

/* The calibrated probe cost, set by user space before the probes go on
 * (0: times as measured): cost_inside of a call's probes falls between its
 * own entry and return timestamps, cost_call is all of it, which lands in
 * the caller's time.  Only the latency figures (min, max, histogram) use
 * them here; totals are corrected in user space from the counts. */
__u64 cost_inside;
__u64 cost_call;

/* Set by user space when it detaches a function's probes: its entries stop
 * counting at once, and its frames left on shadow stacks are not counted as
 * mismatches. */
__u8 detached[FUNC_MAX_FUNCS + 1];

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FUNC_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct func_shadow);
} shadow SEC(".maps");

/* An all-zero shadow stack to create entries from (too big for the BPF
 * stack). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct func_shadow);
} zero_shadow SEC(".maps");

/* max_entries: number of functions + 1 (set by user space). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct func_stats);
} stats SEC(".maps");

/* max_entries: number of functions + 1 (set by user space). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct func_hist);
} hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FUNC_MAX_EDGES);
	__type(key, struct func_edge_key);
	__type(value, struct func_edge_val);
} edges SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FUNC_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += n;
}

static __always_inline struct func_shadow *shadow_get(__u32 tid, __u32 tgid)
{
	struct func_shadow *sh = bpf_map_lookup_elem(&shadow, &tid);
	__u32 zero = 0;

	if (sh)
		return sh;
	sh = bpf_map_lookup_elem(&zero_shadow, &zero);
	if (!sh)
		return NULL;
	bpf_map_update_elem(&shadow, &tid, sh, BPF_NOEXIST);
	sh = bpf_map_lookup_elem(&shadow, &tid);
	if (!sh) {
		count(FUNC_CNT_THREADS_FULL, 1);
		return NULL;
	}
	sh->tgid = tgid;
	return sh;
}

/* Loops over shadow stacks run under bpf_loop(): verified once, not
 * unrolled per depth. */
struct scan_ctx {
	struct func_shadow *sh;
	__u32 fid, caller, flags;
};

/* Is the entering function (or its caller->callee pair) already active? */
static int scan_frame(__u32 i, void *data)
{
	struct scan_ctx *c = data;
	__u32 k = i & (FUNC_MAX_DEPTH - 1);

	if (c->sh->frames[k].func != c->fid)
		return 0;
	c->flags |= FUNC_FRAME_RECURSIVE;
	if (k > 0 && c->sh->frames[(k - 1) & (FUNC_MAX_DEPTH - 1)].func == c->caller)
		c->flags |= FUNC_FRAME_EDGE_RECURSIVE;
	return 0;
}

struct find_ctx {
	struct func_shadow *sh;
	__u32 fid, depth;
	int found;
};

/* The returning function's frame, searched from the top. */
static int find_frame(__u32 i, void *data)
{
	struct find_ctx *c = data;
	__u32 k = (c->depth - 1 - i) & (FUNC_MAX_DEPTH - 1);

	if (c->sh->frames[k].func != c->fid)
		return 0;
	c->found = (int)k;
	return 1;
}

struct drop_ctx {
	struct func_shadow *sh;
	__u32 from;
	__u32 abandon; /* thread exit: charge each frame's function */
};

/* Frames that will never see their return. */
static int drop_frame(__u32 i, void *data)
{
	struct drop_ctx *c = data;
	__u32 g = c->sh->frames[(c->from + i) & (FUNC_MAX_DEPTH - 1)].func;
	struct func_stats *st;

	if (c->abandon) {
		st = bpf_map_lookup_elem(&stats, &g);
		if (st)
			st->abandoned++;
		count(FUNC_CNT_ABANDONED, 1);
	} else if (g <= FUNC_MAX_FUNCS && detached[g]) {
		count(FUNC_CNT_DETACHED, 1);
	} else {
		count(FUNC_CNT_MISMATCH, 1);
	}
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(func_entry)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 fid = (__u32)cookie;
	__u64 id = bpf_get_current_pid_tgid();
	struct func_shadow *sh;
	struct func_stats *st;
	__u32 d, flags = 0, caller = (__u32)-1;

	if (!uprobe_gen_hit(ctx, cookie, 0) || fid > FUNC_MAX_FUNCS || detached[fid])
		return 0;
	st = bpf_map_lookup_elem(&stats, &fid);
	if (!st)
		return 0;
	st->entries++;
	if (count_only)
		return 0;

	sh = shadow_get((__u32)id, id >> 32);
	if (!sh)
		return 0;
	d = sh->depth;
	if (d >= FUNC_MAX_DEPTH || sh->overflow) {
		sh->overflow++;
		count(FUNC_CNT_OVERFLOW, 1);
		return 0;
	}
	if (d > 0) {
		struct scan_ctx sc = { .sh = sh, .fid = fid };

		caller = sh->frames[(d - 1) & (FUNC_MAX_DEPTH - 1)].func;
		sc.caller = caller;

		bpf_loop(d, scan_frame, &sc, 0);
		flags = sc.flags;
	}
	d &= FUNC_MAX_DEPTH - 1;
	sh->frames[d].func = fid;
	sh->frames[d].flags = flags;
	sh->frames[d].child = 0;
	sh->frames[d].kids = 0;
	sh->frames[d].desc = 0;
	sh->depth = d + 1;
	/* Last, so this probe's own work is not timed. */
	sh->frames[d].start = bpf_ktime_get_ns();
	return 0;
}

static __always_inline void add_edge(__u32 caller, __u32 callee, __u64 own, __u64 cum,
				     __u64 cumcalls, __u64 cumdesc)
{
	struct func_edge_key k = { .caller = caller, .callee = callee };
	struct func_edge_val *v, init = {
		.calls = 1, .tottime = own, .cumtime = cum, .cumcalls = cumcalls, .cumdesc = cumdesc
	};

	v = bpf_map_lookup_elem(&edges, &k);
	if (!v) {
		if (bpf_map_update_elem(&edges, &k, &init, BPF_NOEXIST) == 0)
			return;
		v = bpf_map_lookup_elem(&edges, &k);
		if (!v) {
			count(FUNC_CNT_EDGES_FULL, 1);
			return;
		}
	}
	v->calls++;
	v->tottime += own;
	v->cumtime += cum;
	v->cumcalls += cumcalls;
	v->cumdesc += cumdesc;
}

/* A call's duration without the probe cost it holds: its own probes' inner
 * part, and every traced call below it. */
static __always_inline __u64 corrected(__u64 dur, __u64 desc)
{
	__u64 cost = cost_inside + desc * cost_call;

	return dur > cost ? dur - cost : 0;
}

static __always_inline void add_hist(__u32 fid, __u64 dur)
{
	struct func_hist *h = bpf_map_lookup_elem(&hist, &fid);
	__u32 b = func_hist_bucket(dur);

	if (h && b < FUNC_HIST_BUCKETS)
		h->b[b]++;
}

SEC("uretprobe")
int BPF_KRETPROBE(func_return)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 fid = (__u32)cookie;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct func_shadow *sh;
	struct func_stats *st;
	struct func_frame *f;
	__u32 d, k, flags;
	__u64 dur, own, lat, kids, desc;
	int found = -1;

	if (!uprobe_gen_hit(ctx, cookie, 1))
		return 0;
	st = bpf_map_lookup_elem(&stats, &fid);
	if (!st)
		return 0;
	st->returns++;
	/* Once fid is detached its calls push no frame, and a return cannot
	 * tell a call that began before the detach from one after (recursion):
	 * its frames stay, counted once as in flight when it was detached
	 * (when a caller's return drops them, or by user space). */
	if (fid > FUNC_MAX_FUNCS || detached[fid])
		return 0;
	sh = bpf_map_lookup_elem(&shadow, &tid);
	if (!sh) {
		count(FUNC_CNT_NO_ENTRY, 1);
		return 0;
	}
	if (sh->overflow) {
		sh->overflow--;
		return 0;
	}
	d = sh->depth;
	if (d > FUNC_MAX_DEPTH)
		d = FUNC_MAX_DEPTH;
	{
		struct find_ctx fc = { .sh = sh, .fid = fid, .depth = d, .found = -1 };

		bpf_loop(d, find_frame, &fc, 0);
		found = fc.found;
	}
	if (found < 0) {
		count(FUNC_CNT_NO_ENTRY, 1);
		return 0;
	}
	k = (__u32)found & (FUNC_MAX_DEPTH - 1);
	/* Frames above ours never saw their return (longjmp, a return probe
	 * missed, or a function detached by the governor): drop them. */
	if (k + 1 < d) {
		struct drop_ctx dc = { .sh = sh, .from = k + 1 };

		bpf_loop(d - k - 1, drop_frame, &dc, 0);
	}
	f = &sh->frames[k];
	dur = now - f->start;
	own = dur > f->child ? dur - f->child : 0;
	flags = f->flags;
	kids = f->kids;
	desc = f->desc;
	sh->depth = k;

	st->ncalls++;
	st->tottime += own;
	st->kids += kids;
	if (!(flags & FUNC_FRAME_RECURSIVE)) {
		st->prim++;
		st->cumtime += dur;
		st->cumdesc += desc;
	}
	lat = corrected(dur, desc);
	if (st->min == 0 || lat < st->min)
		st->min = lat ? lat : 1;
	if (lat > st->max)
		st->max = lat;
	add_hist(fid, lat);

	if (k > 0) {
		struct func_frame *parent = &sh->frames[(k - 1) & (FUNC_MAX_DEPTH - 1)];
		int outer = !(flags & FUNC_FRAME_EDGE_RECURSIVE);

		parent->child += dur;
		parent->kids++;
		parent->desc += 1 + desc;
		add_edge(parent->func, fid, own, outer ? dur : 0, outer, outer ? desc : 0);
	}
	return 0;
}

/* A thread exiting with traced calls in flight: its frames never return. */
SEC("raw_tp/sched_process_exit")
int func_thread_exit(void *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct func_shadow *sh = bpf_map_lookup_elem(&shadow, &tid);
	__u32 d;

	if (!sh)
		return 0;
	d = sh->depth < FUNC_MAX_DEPTH ? sh->depth : FUNC_MAX_DEPTH;
	if (d > 0) {
		struct drop_ctx dc = { .sh = sh, .from = 0, .abandon = 1 };

		bpf_loop(d, drop_frame, &dc, 0);
	}
	count(FUNC_CNT_ABANDONED, sh->overflow);
	bpf_map_delete_elem(&shadow, &tid);
	return 0;
}
