/* The func collector: structs and limits shared by bpf/func.bpf.c and
 * user/collect/func*.c.  Compiles under vmlinux.h (BPF) and under libc (user). */
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
#define FUNC_FRAME_RECURSIVE 1u	     /* same function active deeper on this thread */
#define FUNC_FRAME_EDGE_RECURSIVE 2u /* same caller->callee pair active deeper */

struct func_frame {
	__u32 func;  /* function id (the probe's cookie) */
	__u32 flags; /* FUNC_FRAME_* */
	__u64 start; /* entry time, ns (bpf_ktime_get_ns) */
	__u64 child; /* ns spent in traced callees */
	__u64 kids;  /* traced calls this call made directly (finished) */
	__u64 desc;  /* traced calls below this call, any depth (finished) */
};

/* Per-thread shadow stack (hash: tid -> this). */
struct func_shadow {
	__u32 depth;	/* frames in use */
	__u32 overflow; /* entries beyond FUNC_MAX_DEPTH not yet returned */
	__u32 tgid;
	__u32 pad;
	struct func_frame frames[FUNC_MAX_DEPTH];
};

/* Per-function counters (per-CPU array indexed by function id). */
struct func_stats {
	__u64 entries;	 /* entry probe hits (the governor's rate; --count-only) */
	__u64 ncalls;	 /* finished calls */
	__u64 prim;	 /* finished calls not recursive (cProfile primitive calls) */
	__u64 tottime;	 /* ns, excluding traced callees */
	__u64 cumtime;	 /* ns, inclusive, outermost active frame only */
	__u64 min;	 /* ns, shortest finished call (0: none yet) */
	__u64 max;	 /* ns, longest finished call */
	__u64 abandoned; /* frames dropped because their thread exited */
	__u64 returns;	 /* return probe hits */
	/* For the probe-cost correction (user/collect/func.c): */
	__u64 kids;    /* traced calls made directly by the finished calls */
	__u64 cumdesc; /* traced calls below the calls counted in cumtime */
};

struct func_edge_key {
	__u32 caller, callee;
};

struct func_edge_val {
	__u64 calls;
	__u64 tottime;	/* callee's own time in calls from this caller */
	__u64 cumtime;	/* callee's inclusive time, outermost pair only */
	__u64 cumcalls; /* calls counted in cumtime */
	__u64 cumdesc;	/* traced calls below the calls counted in cumtime */
};

/* Global loss counters (per-CPU array indexed by enum func_counter): one
 * list for the BPF side, the enum, and the report's info keys and labels.
 * X(NAME, key, label): NAME gives FUNC_CNT_NAME. */
#define FUNC_LOSSES(X)                                                                   \
	/* calls deeper than FUNC_MAX_DEPTH: not timed */                                \
	X(OVERFLOW, "lost_overflow", "calls not timed (shadow stack deeper than limit)") \
	/* frames unwound: their return was never seen */                                \
	X(MISMATCH, "lost_mismatch",                                                     \
	  "frames unwound without their return (longjmp, missed return)")                \
	/* returns whose entry was not seen (started before attach) */                   \
	X(NO_ENTRY, "lost_no_entry", "returns without a seen entry")                     \
	/* frames dropped at thread exit */                                              \
	X(ABANDONED, "lost_abandoned", "calls abandoned by exiting threads")             \
	/* entries dropped: shadow stack map full */                                     \
	X(THREADS_FULL, "lost_threads_full", "entries dropped (too many threads)")       \
	/* edge updates dropped: edge map full */                                        \
	X(EDGES_FULL, "lost_edges_full", "edge updates dropped (edge map full)")         \
	/* frames of a detached function unwound */                                      \
	X(DETACHED, "lost_detached", "calls in flight when their function was detached")

#define FUNC_CNT_ENUM_(name, key, label) FUNC_CNT_##name,
enum func_counter {
	FUNC_LOSSES(FUNC_CNT_ENUM_) FUNC_CNT_MAX,
};
#undef FUNC_CNT_ENUM_

/* Log-linear bucket of a duration; BPF and user space share it. */
/* clang-format off */
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
/* clang-format on */

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
