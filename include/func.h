/* The func collector: structs and limits shared by bpf/func.bpf.c and
 * user/func*.c.  Compiles under vmlinux.h (BPF) and under libc (user). */
#ifndef EBPROF_FUNC_H
#define EBPROF_FUNC_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Most functions one run traces (patterns matching more are cut here, and
 * the cut is reported). */
#define FUNC_MAX_FUNCS 4096
/* Shadow stack depth per thread; deeper traced calls are counted as
 * overflow and not timed. */
#define FUNC_MAX_DEPTH 64
/* Threads with a shadow stack at one time. */
#define FUNC_MAX_THREADS 4096
/* Distinct caller->callee pairs among traced functions. */
#define FUNC_MAX_EDGES 16384

/* Log-linear latency histogram: values below 2^FUNC_HIST_SUB_BITS ns get
 * a bucket each; above, every power of two is split in
 * 2^FUNC_HIST_SUB_BITS linear buckets (12.5 % wide).  Durations at or
 * above 2^FUNC_HIST_MAX_LOG2 ns (about 18 minutes) share the last bucket. */
#define FUNC_HIST_SUB_BITS 3
#define FUNC_HIST_SUB (1u << FUNC_HIST_SUB_BITS)
#define FUNC_HIST_MAX_LOG2 40
#define FUNC_HIST_BUCKETS ((FUNC_HIST_MAX_LOG2 - FUNC_HIST_SUB_BITS + 1) * FUNC_HIST_SUB)

/* One function's latency histogram (per-CPU array indexed by function id). */
struct func_hist {
	__u64 b[FUNC_HIST_BUCKETS];
};

/* Frame flags */
#define FUNC_FRAME_RECURSIVE 1u /* same function active deeper on this thread */
#define FUNC_FRAME_EDGE_RECURSIVE 2u /* same caller->callee pair active deeper */

struct func_frame {
	__u32 func;   /* function id (the probe's cookie) */
	__u32 flags;  /* FUNC_FRAME_* */
	__u64 start;  /* entry time, ns (bpf_ktime_get_ns) */
	__u64 child;  /* ns spent in traced callees */
};

/* Per-thread shadow stack (hash: tid -> this). */
struct func_shadow {
	__u32 depth;    /* frames in use */
	__u32 overflow; /* entries beyond FUNC_MAX_DEPTH not yet returned */
	__u32 tgid;
	__u32 pad;
	struct func_frame frames[FUNC_MAX_DEPTH];
};

/* Per-function counters (per-CPU array indexed by function id). */
struct func_stats {
	__u64 entries;   /* entry probe hits (the governor's rate; --count-only) */
	__u64 ncalls;    /* finished calls */
	__u64 prim;      /* finished calls not recursive (cProfile primitive calls) */
	__u64 tottime;   /* ns, excluding traced callees */
	__u64 cumtime;   /* ns, inclusive, outermost active frame only */
	__u64 min;       /* ns, shortest finished call (0: none yet) */
	__u64 max;       /* ns, longest finished call */
	__u64 abandoned; /* frames dropped because their thread exited */
	__u64 returns;   /* return probe hits */
};

struct func_edge_key {
	__u32 caller, callee;
};

struct func_edge_val {
	__u64 calls;
	__u64 tottime; /* callee's own time in calls from this caller */
	__u64 cumtime; /* callee's inclusive time, outermost pair only */
};

/* Global counters (per-CPU array). */
enum func_counter {
	FUNC_CNT_OVERFLOW = 0,   /* calls deeper than FUNC_MAX_DEPTH: not timed */
	FUNC_CNT_MISMATCH,       /* frames unwound: their return was never seen */
	FUNC_CNT_NO_ENTRY,       /* returns whose entry was not seen (started
				  * before attach) */
	FUNC_CNT_ABANDONED,      /* frames dropped at thread exit */
	FUNC_CNT_THREADS_FULL,   /* entries dropped: shadow stack map full */
	FUNC_CNT_EDGES_FULL,     /* edge updates dropped: edge map full */
	FUNC_CNT_DETACHED,       /* frames of a detached function unwound */
	FUNC_CNT_MAX,
};

/* Which link's hit counts while links of two generations coexist.  The
 * governor (uprobe_multi) detaches functions by creating links of
 * generation + 1 for the remaining ones, switching the current generation,
 * then destroying the old links; meanwhile one call runs both links'
 * programs, newest link first (the kernel adds consumers at the head of a
 * uprobe's list).  The current generation's hit counts.  If the switch
 * falls between the two programs, the newer one saw the old generation
 * and the older one sees the new: the newer one leaves a mark for this
 * very hit (thread, stack pointer, function, entry or return) and the
 * older one takes the hit in its place, so it counts once.  m is per CPU,
 * updated by every hit. */
struct func_hit_mark {
	__u64 sp;
	__u32 tid, fid, kind, deferred;
};

/* 1 when the hit of a probe with cookie (generation << 32 | function id)
 * counts, cur being the current generation. */
static inline int func_accept(struct func_hit_mark *m, __u64 cookie, __u32 cur, __u32 tid,
			      __u32 kind, __u64 sp)
{
	__u32 gen = (__u32)(cookie >> 32), fid = (__u32)cookie;
	int twin = m->deferred && m->tid == tid && m->fid == fid && m->kind == kind &&
		   m->sp == sp;

	m->deferred = 0;
	if (gen == cur)
		return 1;
	if (gen == cur + 1) {
		m->sp = sp;
		m->tid = tid;
		m->fid = fid;
		m->kind = kind;
		m->deferred = 1;
		return 0;
	}
	return gen + 1 == cur && twin;
}

/* Log-linear bucket of a duration; BPF and user space share it. */
static inline __u32 func_hist_log2(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xFFFFFFFFull) << 5; v >>= s; r |= s;
	s = (v > 0xFFFFull) << 4; v >>= s; r |= s;
	s = (v > 0xFFull) << 3; v >>= s; r |= s;
	s = (v > 0xFull) << 2; v >>= s; r |= s;
	s = (v > 0x3ull) << 1; v >>= s; r |= s;
	r |= (__u32)(v >> 1);
	return r;
}

static inline __u32 func_hist_bucket(__u64 v)
{
	__u32 e, b;

	if (v < FUNC_HIST_SUB)
		return (__u32)v;
	e = func_hist_log2(v);
	if (e >= FUNC_HIST_MAX_LOG2)
		return FUNC_HIST_BUCKETS - 1;
	b = (e - FUNC_HIST_SUB_BITS + 1) * FUNC_HIST_SUB +
	    (__u32)((v >> (e - FUNC_HIST_SUB_BITS)) - FUNC_HIST_SUB);
	return b;
}

/* Smallest value that falls in bucket b (user space: percentiles). */
static inline __u64 func_hist_lower(__u32 b)
{
	__u32 g = b / FUNC_HIST_SUB, i = b % FUNC_HIST_SUB;

	if (g == 0)
		return i;
	return (__u64)(FUNC_HIST_SUB + i) << (g - 1);
}

#endif
