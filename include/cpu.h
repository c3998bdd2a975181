/* Shared by bpf/cpu.bpf.c and user/collect/cpu.c: map keys, values and limits of
 * the cpu collector (on-CPU sampling + off-CPU time from sched_switch). */
#ifndef EBPROF_CPU_H
#define EBPROF_CPU_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CPU_MAX_STACK_DEPTH 127 /* PERF_MAX_STACK_DEPTH; UNWIND_MAX_FRAMES */
/* The frames and counts maps are preallocated: an insert from the sampling
 * interrupt or the scheduler then never waits for memory (a map that
 * allocates on insert has one element cached per CPU for entries of this
 * size, and refills it only once interrupts are on again: the second new
 * stack of one sched_switch, user then kernel, failed on a fresh CPU). */
#define CPU_MAX_STACKS 16384 /* distinct stacks in the frames map between drains */
/* A stack's id (a positive s32 in struct cpu_key): the CPU that added it,
 * then how many that CPU added before. */
#define CPU_STACK_ID_BITS 21
#define CPU_STACK_ID_PER_CPU (1u << CPU_STACK_ID_BITS) /* stacks one CPU adds in a run */
#define CPU_STACK_ID_CPUS (1u << (31 - CPU_STACK_ID_BITS))
#define CPU_MAX_ENTRIES 65536 /* distinct (thread, stack) pairs */
#define CPU_MAX_THREADS 8192
#define CPU_COMM_LEN 16
#define CPU_MAX_PROCS 4096 /* the target and its descendants in the procs map */

/* A captured stack, the key of the frames map: its whole frame array, so
 * two stacks never share an id (no hash collisions).  ips past nr are 0. */
struct cpu_frames {
	__u32 nr;
	__u32 kernel;
	__u64 ips[CPU_MAX_STACK_DEPTH];
};

/* Both maps count per (thread, user stack, kernel stack). */
struct cpu_key {
	__u32 tid;
	__u32 flags;  /* CPU_KEY_* */
	__s32 ustack; /* id in the frames map, or negative errno when not captured */
	__s32 kstack;
};

#define CPU_KEY_RUNNABLE 1   /* off-CPU while runnable (preempted) */
#define CPU_KEY_PRE_ATTACH 2 /* blocked since before attach: stack unknown */

struct cpu_val {
	__u64 samples;	 /* on-CPU samples */
	__u64 offcpu_ns; /* off-CPU time */
};

/* A thread that switched out, until it runs again: where its off-CPU
 * episode starts, and its CPU clock then (a switch-in not seen is made
 * good at the next switch-out: the time between less what that clock
 * grew is the episode). */
struct cpu_start {
	__u64 ts;
	__u64 sum; /* se.sum_exec_runtime at the switch-out */
	struct cpu_key key;
};

/* Per thread.  On-CPU time is exact: the growth of the thread's own CPU
 * clock (se.sum_exec_runtime, what CLOCK_THREAD_CPUTIME_ID and schedstat
 * read) between its switch-in and switch-out.  The rest of each run
 * interval (the scheduler's path before the tracepoint, IRQ and steal
 * time, which that clock leaves out) starts the off-CPU episode that
 * follows, so that on + off = wall for every thread.  The kernel may
 * also count in that clock time from before the switch-in (a run queue
 * clock not updated since the wakeup that preempted the CPU's previous
 * task): that run then ends later than its switch-out, and the episodes
 * after it are shortened by as much (debt), so that over the thread's
 * life off-CPU = wall - CPU clock, the kernel's own figures. */
struct cpu_thread {
	char comm[CPU_COMM_LEN];
	__u64 samples;
	__u64 offcpu_ns;
	__u64 oncpu_ns;
	__u64 in_ts;	/* switched in at (bpf_ktime_get_ns), 0 while off-CPU */
	__u64 in_sum;	/* its se.sum_exec_runtime at the last switch seen */
	__u64 debt;	/* CPU clock counted ahead of the wall: owed by the next episodes */
	__u64 first_ts; /* its first switch seen (attach: running or blocked then) */
	__u64 last_ts;	/* its last switch seen: its exit once it is gone */
	__u32 flags;	/* CPU_THREAD_* */
	__u32 tgid;	/* its process */
	char pcomm[CPU_COMM_LEN]; /* its process's comm (--children only) */
};

#define CPU_THREAD_SWITCHED 1 /* seen switching in or out */
#define CPU_THREAD_DEAD 2     /* its last switch-out was its exit (last_ts) */

/* Counters in .bss (stats[], indexes CPU_STAT_<NAME>): one list for the
 * enum, the BPF program that counts them and the report that shows them.
 *   X(NAME, info key, info label, lost)
 * lost 1: a sample or episode lost or damaged, summed into the report's
 * "lost"; consecutive counters that share a key are shown as one sum. */
#define CPU_STATS(X)                                                                   \
	/* samples of the target seen; off-CPU episodes counted */                     \
	X(SAMPLES, "samples", "on-CPU samples", 0)                                     \
	X(SWITCHES, "offcpu_switches", "off-CPU episodes", 0)                          \
	/* an episode whose time all went to pay the thread's CPU clock's     \
	 * lead (debt, below): 0 ns, no stack booked; the time is the thread's \
	 * on-CPU time, nothing lost */        \
	X(OFFCPU_ABSORBED, "offcpu_absorbed", "  absorbed by the CPU clock's lead", 0) \
	/* processes the target's descendants forked while profiled */                 \
	X(FORKED, "children_forked", "child processes forked", 0)                      \
	/* a switch-out with no switch-in seen since the one before (its       \
	 * episode is made good from the CPU clock: nothing lost) */       \
	X(SWITCH_IN_UNSEEN, "switch_in_unseen", "switch-ins not seen (recovered)", 0)  \
	/* a stack that could not be collected */                                      \
	X(USTACK_LOST, "lost_user_stack", "  user stack unavailable", 1)               \
	X(KSTACK_LOST, "lost_kernel_stack", "  kernel stack unavailable", 1)           \
	/* user stacks cut short by the unwinder: a read of the stack      \
	 * failed; a pc with no unwind info (--unwind dwarf); a file whose \
	 * table was left out as too large (frame pointers used instead) */           \
	X(USTACK_READ, "lost_user_stack_read", "  user stack read failed", 1)          \
	X(NO_UNWIND_INFO, "lost_no_unwind_info", "  user pc without unwind info", 1)   \
	X(TABLE_TOO_LARGE, "lost_table_too_large", "  unwind table too large", 1)      \
	/* the frames map is full: stack not kept; or the kernel refused the  \
	 * insert for another reason (the bucket locked by ebprof's own update \
	 * this sample interrupted on the same CPU): not kept */        \
	X(STACKMAP_FULL, "lost_stackmap_full", "  stack map full", 1)                  \
	X(STACK_INSERT, "lost_stack_insert", "  stack map busy or out of memory", 1)   \
	/* counts map full: sample dropped; starts or threads map full */              \
	X(MAP_FULL, "lost_map_full", "  counts map full", 1)                           \
	X(START_FULL, "lost_map_full", "  counts map full", 1)                         \
	X(THREADS_FULL, "lost_map_full", "  counts map full", 1)                       \
	/* procs map full: a descendant not followed (--children) */                   \
	X(PROCS_FULL, "lost_procs_full", "  child processes not followed", 1)

#define CPU_STAT_ENUM(name, key, label, lost) CPU_STAT_##name,
enum cpu_stat {
	CPU_STATS(CPU_STAT_ENUM) CPU_STAT_MAX,
};
#undef CPU_STAT_ENUM

#endif
