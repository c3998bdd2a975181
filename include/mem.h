/* The mem collector: structs, limits and loss counters shared by
 * bpf/mem.bpf.c and user/collect/mem*.c.  Compiles under vmlinux.h (BPF)
 * and under libc (user). */
#ifndef EBPROF_MEM_H
#define EBPROF_MEM_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* User stack frames kept per allocation site. */
#define MEM_STACK_DEPTH 32
/* Distinct allocation sites (stacks). */
#define MEM_MAX_SITES 16384
/* Blocks tracked at one time (allocated while attached, not yet freed). */
#define MEM_MAX_BLOCKS (1u << 20)
/* Threads inside an allocator call at one time. */
#define MEM_MAX_THREADS 4096
/* Size histogram: bucket b holds sizes in [2^(b-1), 2^b) (bucket 0: size 0);
 * the last bucket everything from 2^(MEM_HIST_BUCKETS-2) up. */
#define MEM_HIST_BUCKETS 32

/* The allocator functions; the probe cookie's low 32 bits. */
#define MEM_FUNCS(X)                        \
	X(MALLOC, "malloc")                 \
	X(CALLOC, "calloc")                 \
	X(REALLOC, "realloc")               \
	X(REALLOCARRAY, "reallocarray")     \
	X(FREE, "free")                     \
	X(POSIX_MEMALIGN, "posix_memalign") \
	X(ALIGNED_ALLOC, "aligned_alloc")   \
	X(MEMALIGN, "memalign")             \
	X(VALLOC, "valloc")                 \
	X(PVALLOC, "pvalloc")               \
	MEM_CXX_FUNCS(X)

/* C++ operator new and delete (the Itanium ABI's names, left mangled),
 * found where the target binds _Znwm: every new takes the size first,
 * every delete the pointer first.  New first, then delete. */
#define MEM_CXX_FUNCS(X)                                                   \
	X(NEW, "_Znwm")                                                    \
	X(NEW_ARRAY, "_Znam")                                              \
	X(NEW_NOTHROW, "_ZnwmRKSt9nothrow_t")                              \
	X(NEW_ARRAY_NOTHROW, "_ZnamRKSt9nothrow_t")                        \
	X(NEW_ALIGNED, "_ZnwmSt11align_val_t")                             \
	X(NEW_ARRAY_ALIGNED, "_ZnamSt11align_val_t")                       \
	X(NEW_ALIGNED_NOTHROW, "_ZnwmSt11align_val_tRKSt9nothrow_t")       \
	X(NEW_ARRAY_ALIGNED_NOTHROW, "_ZnamSt11align_val_tRKSt9nothrow_t") \
	X(DELETE, "_ZdlPv")                                                \
	X(DELETE_ARRAY, "_ZdaPv")                                          \
	X(DELETE_SIZED, "_ZdlPvm")                                         \
	X(DELETE_ARRAY_SIZED, "_ZdaPvm")                                   \
	X(DELETE_NOTHROW, "_ZdlPvRKSt9nothrow_t")                          \
	X(DELETE_ARRAY_NOTHROW, "_ZdaPvRKSt9nothrow_t")                    \
	X(DELETE_ALIGNED, "_ZdlPvSt11align_val_t")                         \
	X(DELETE_ARRAY_ALIGNED, "_ZdaPvSt11align_val_t")                   \
	X(DELETE_SIZED_ALIGNED, "_ZdlPvmSt11align_val_t")                  \
	X(DELETE_ARRAY_SIZED_ALIGNED, "_ZdaPvmSt11align_val_t")            \
	X(DELETE_ALIGNED_NOTHROW, "_ZdlPvSt11align_val_tRKSt9nothrow_t")   \
	X(DELETE_ARRAY_ALIGNED_NOTHROW, "_ZdaPvSt11align_val_tRKSt9nothrow_t")

#define MEM_FN_ENUM_(name, sym) MEM_FN_##name,
enum mem_fn {
	MEM_FUNCS(MEM_FN_ENUM_) MEM_FN_MAX,
};
#undef MEM_FN_ENUM_

/* The first C++ function (MEM_FN_NEW .. MEM_FN_MAX are resolved apart). */
#define MEM_FN_CXX_FIRST MEM_FN_NEW

/* 1 for the functions that release a block (free and every delete: an
 * entry probe only, the pointer their first argument). */
static inline int mem_fn_frees(__u32 fn)
{
	return fn == MEM_FN_FREE || (fn >= MEM_FN_DELETE && fn < MEM_FN_MAX);
}

/* One allocation site: a user stack, leaf first: ips[0] the allocator
 * function, ips[1] its caller (by the unwind tables; with --unwind fp the
 * return address at [rsp] at its entry, which a frame-pointer walk from
 * inside the allocator skips). */
struct mem_stack {
	__u32 n;
	__u32 pad;
	__u64 ips[MEM_STACK_DEPTH];
};

/* Per-site counters (hash: site id -> this), updated atomically. */
struct mem_site {
	__u64 allocs;	   /* successful allocation calls */
	__u64 bytes;	   /* bytes they asked for */
	__u64 failed;	   /* calls that returned no block (not leaks) */
	__u64 frees;	   /* blocks of this site freed */
	__u64 freed_bytes; /* their bytes */
	__u64 temps;	   /* freed before their thread's next allocation */
	__u64 untracked;   /* blocks not tracked (block map full) */
	__s64 cur_bytes;   /* outstanding bytes of tracked blocks */
	__s64 cur_count;   /* outstanding tracked blocks */
	__s64 peak_bytes;  /* cur_bytes when the total peaked (valid for peak_seq) */
	__u64 peak_seq;	   /* the total's peak sequence peak_bytes belongs to */
	__u64 hist[MEM_HIST_BUCKETS];
};

/* One outstanding block (hash: address -> this). */
struct mem_block {
	__u64 size;
	__u64 site;
	__u64 ts; /* allocation time, bpf_ktime_get_ns */
};

/* An allocator call in flight on one thread (hash: tid -> this). */
struct mem_call {
	__u64 size;	  /* bytes asked for (calloc: nmemb*size) */
	__u64 old;	  /* realloc: the block it resizes */
	__u64 out;	  /* posix_memalign: where the pointer goes */
	__u64 site;	  /* stack id of the call */
	__u32 fn;	  /* enum mem_fn */
	__u32 depth;	  /* allocator calls nested inside this one (not counted) */
	__u32 probe, pad; /* the probe index of the call */
};

/* Totals (array, one element). */
struct mem_totals {
	__s64 cur_bytes;     /* outstanding bytes of tracked blocks */
	__s64 peak_bytes;    /* highest cur_bytes seen */
	__u64 peak_ts;	     /* when, bpf_ktime_get_ns */
	__u64 peak_seq;	     /* bumped at every new peak */
	__u64 unknown_frees; /* frees of blocks allocated before attach (or untracked) */
	__u64 null_frees;    /* free(NULL) */
};

/* Loss counters (per-CPU array indexed by enum mem_counter):
 * X(NAME, key, label). */
#define MEM_STATS(X)                                                                          \
	/* blocks not tracked: the block map was full (their frees are unknown) */            \
	X(BLOCKS_FULL, "lost_blocks_full", "blocks not tracked (block map full)")             \
	/* allocations not counted: the site map was full */                                  \
	X(SITES_FULL, "lost_sites_full", "allocations not counted (site map full)")           \
	/* allocations whose user stack could not be read: counted under "[no user stack]" */ \
	X(STACK, "lost_stack", "allocations without a user stack (stack read failed)")        \
	/* stacks cut: the stack could not be read (unwind tables) */                         \
	X(STACK_READ, "lost_user_stack_read", "stacks cut (user stack read failed)")          \
	/* stacks cut: --unwind dwarf and a pc without CFI */                                 \
	X(NO_UNWIND_INFO, "lost_no_unwind_info", "stacks cut (user pc without unwind info)")  \
	/* stacks walked by frame pointers in a file whose table was over a limit */          \
	X(TABLE_TOO_LARGE, "lost_table_too_large",                                            \
	  "stacks in a file whose unwind table is too large")                                 \
	/* posix_memalign results that could not be read */                                   \
	X(READ, "lost_read", "posix_memalign results not readable")                           \
	/* allocator calls not seen through: the thread map was full */                       \
	X(THREADS_FULL, "lost_threads_full", "allocator calls not traced (thread map full)")  \
	/* returns whose entry was not seen (call began before attach) */                     \
	X(NO_ENTRY, "lost_no_entry", "allocator returns without their entry")

#define MEM_CNT_ENUM_(name, key, label) MEM_CNT_##name,
enum mem_counter {
	MEM_STATS(MEM_CNT_ENUM_) MEM_CNT_MAX,
};
#undef MEM_CNT_ENUM_

/* Per-function hit counters (per-CPU array indexed by enum mem_fn): the
 * governor's rates. */
struct mem_fstats {
	__u64 entries;
};

/* The histogram bucket of a size. */
static inline __u32 mem_hist_bucket(__u64 v)
{
	__u32 b = 0;

	while (v && b < MEM_HIST_BUCKETS - 1) {
		v >>= 1;
		b++;
	}
	return b;
}

#endif
