/* Shared by bpf/cpu.bpf.c and user/cpu.c: map keys, values and limits of
 * the cpu collector (on-CPU sampling + off-CPU time from sched_switch). */
#ifndef EBPROF_CPU_H
#define EBPROF_CPU_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CPU_MAX_STACK_DEPTH 127   /* PERF_MAX_STACK_DEPTH */
#define CPU_MAX_STACKS      16384 /* distinct stacks in the stack map */
#define CPU_MAX_ENTRIES     32768 /* distinct (thread, stack) pairs */
#define CPU_MAX_THREADS     8192
#define CPU_COMM_LEN        16

/* Both maps count per (thread, user stack, kernel stack). */
struct cpu_key {
	__u32 tid;
	__u32 flags;     /* CPU_KEY_* */
	__s32 ustack;    /* stack id, or negative errno when not captured */
	__s32 kstack;
};

#define CPU_KEY_RUNNABLE   1 /* off-CPU while runnable (preempted) */
#define CPU_KEY_PRE_ATTACH 2 /* blocked since before attach: stack unknown */

struct cpu_val {
	__u64 samples;   /* on-CPU samples */
	__u64 offcpu_ns; /* off-CPU time */
};

/* A thread that switched out, until it runs again. */
struct cpu_start {
	__u64 ts;
	struct cpu_key key;
};

struct cpu_thread {
	char comm[CPU_COMM_LEN];
	__u64 samples;
	__u64 offcpu_ns;
};

/* Counters in .bss, indexes into stats[]. */
enum cpu_stat {
	CPU_STAT_SAMPLES,        /* samples of the target seen */
	CPU_STAT_USTACK_LOST,    /* user stack could not be collected */
	CPU_STAT_KSTACK_LOST,
	CPU_STAT_STACK_COLLISION,/* stack id hash collision (-EEXIST) */
	CPU_STAT_STACKMAP_FULL,  /* -ENOMEM from the stack map */
	CPU_STAT_MAP_FULL,       /* counts map full: sample dropped */
	CPU_STAT_START_FULL,     /* switch-out not recorded */
	CPU_STAT_THREADS_FULL,
	CPU_STAT_SWITCHES,
	CPU_STAT_MAX,
};

#endif
