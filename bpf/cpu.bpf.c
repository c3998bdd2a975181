// SPDX-License-Identifier: GPL-2.0
/* cpu collector: on-CPU samples from cpu-clock perf events on the target's
 * threads (inherited), exact on-CPU and off-CPU time per thread from
 * sched_switch; keyed by thread and stacks and filtered to the target's
 * thread group. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cpu.h"
#include "unwind.bpf.h"

#define EEXIST 17
#define ENOMEM 12
#define E2BIG 7
#define ENOENT 2
#define TASK_DEAD 0x80

const volatile __u32 targ_tgid = 0;
const volatile bool follow_children = false; /* --children */
const volatile __u64 min_block_ns = 0;

/* CPU_STATS in cpu.h: what each counts and how the report shows it. */
__u64 stats[CPU_STAT_MAX] = {};
/* When the first sample of the target was taken (bpf_ktime_get_ns): -v
 * says how long after ebprof's start. */
__u64 first_sample_ns = 0;
/* Set by user space once attached (CLOCK_MONOTONIC, as bpf_ktime_get_ns). */
__u64 attach_ns = 0;

/* Every stack captured, user or kernel, by its whole frame array -> its
 * id: the CPU that added it << CPU_STACK_ID_BITS | how many that CPU
 * added before (frames_added).  User space moves the entries out whenever
 * the map fills up (stacktab_drain), so its size bounds the stacks new
 * since the last drain, not the run's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_MAX_STACKS);
	__type(key, struct cpu_frames);
	__type(value, __u32);
} frames SEC(".maps");

/* Stacks each CPU added (user space sums them to know how full frames
 * is). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} frames_added SEC(".maps");

/* Where a stack is put together: [0] user, [1] kernel. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct cpu_frames);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_MAX_ENTRIES);
	__type(key, struct cpu_key);
	__type(value, struct cpu_val);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct cpu_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct cpu_thread);
} threads SEC(".maps");

/* The target's descendants (tgid -> 1): filled by user space at attach
 * (the ones running then) and by cpu_fork (the ones forked since).  With
 * --children they are profiled too; without, the report only names them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CPU_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u8);
} procs SEC(".maps");

/* A thread of a process we profile: the target's thread group, or with
 * --children one of its descendants' (the single compare stays the fast
 * path without). */
static __always_inline bool followed(__u32 tgid)
{
	if (tgid == targ_tgid)
		return true;
	return follow_children && bpf_map_lookup_elem(&procs, &tgid);
}

static __always_inline void stat_inc(int i)
{
	__sync_fetch_and_add(&stats[i], 1);
}

/* The id of the stack in the scratch slot f, added to frames when new;
 * negative when the map is full. */
static __always_inline __s32 intern(struct cpu_frames *f)
{
	__u32 *idp = bpf_map_lookup_elem(&frames, f), id, zero = 0;
	__u64 *added;
	__u32 cpu = bpf_get_smp_processor_id();
	long err;

	if (idp)
		return (__s32)*idp;
	added = bpf_map_lookup_elem(&frames_added, &zero);
	if (!added || cpu >= CPU_STACK_ID_CPUS || *added >= CPU_STACK_ID_PER_CPU) {
		stat_inc(CPU_STAT_STACK_INSERT); /* no id left to give */
		return -ENOMEM;
	}
	id = cpu << CPU_STACK_ID_BITS | (__u32)*added;
	err = bpf_map_update_elem(&frames, f, &id, BPF_NOEXIST);
	if (!err)
		(*added)++;
	if (err == -EEXIST) {
		/* another CPU added it first */
		idp = bpf_map_lookup_elem(&frames, f);
		return idp ? (__s32)*idp : -ENOMEM;
	}
	if (err) {
		stat_inc(err == -E2BIG ? CPU_STAT_STACKMAP_FULL : CPU_STAT_STACK_INSERT);
		return -ENOMEM;
	}
	return (__s32)id;
}

static __always_inline struct cpu_frames *scratch_slot(__u32 slot)
{
	struct cpu_frames *f = bpf_map_lookup_elem(&scratch, &slot);

	if (f) {
		for (int i = 0; i < CPU_MAX_STACK_DEPTH; i++)
			f->ips[i] = 0;
		f->nr = 0;
		f->kernel = slot;
	}
	return f;
}

/* A stack from bpf_get_stack (kernel, or user by frame pointers). */
static __always_inline __s32 helper_stack(void *ctx, __u32 slot, __u64 flags, int lost_stat)
{
	struct cpu_frames *f = scratch_slot(slot);
	long n;

	if (!f)
		return -ENOMEM;
	n = bpf_get_stack(ctx, f->ips, sizeof(f->ips), flags);
	if (n <= 0) {
		stat_inc(lost_stat);
		return n < 0 ? (__s32)n : -ENOENT;
	}
	f->nr = (__u32)(n / sizeof(__u64));
	return intern(f);
}

/* The user stack of current by the unwind tables, from its user
 * registers (saved at its entry to the kernel). */
static __always_inline __s32 unwound_stack(void)
{
	struct cpu_frames *f = scratch_slot(0);
	struct unwind_regs regs;
	int lost;

	if (!f)
		return -ENOMEM;
	unwind_task_regs(&regs);
	if (!regs.ip) {
		stat_inc(CPU_STAT_USTACK_LOST);
		return -ENOENT;
	}
	f->nr = unwind_walk(&regs, f->ips, &lost);
	if (lost == UNWIND_LOST_READ)
		stat_inc(CPU_STAT_USTACK_READ);
	else if (lost == UNWIND_LOST_NO_INFO)
		stat_inc(CPU_STAT_NO_UNWIND_INFO);
	else if (lost == UNWIND_LOST_TOO_LARGE)
		stat_inc(CPU_STAT_TABLE_TOO_LARGE);
	return intern(f);
}

/* with_kstack 0: the thread is in user mode, with no kernel stack. */
static __always_inline void fill_key(void *ctx, struct cpu_key *k, __u32 tid, bool with_kstack)
{
	k->tid = tid;
	if (unwind_mode == UNWIND_MODE_FP)
		k->ustack = helper_stack(ctx, 0, BPF_F_USER_STACK, CPU_STAT_USTACK_LOST);
	else
		k->ustack = unwound_stack();
	k->kstack = with_kstack ? helper_stack(ctx, 1, 0, CPU_STAT_KSTACK_LOST) : -1;
}

static __always_inline struct cpu_val *val_of(struct cpu_key *k)
{
	static const struct cpu_val zero;
	struct cpu_val *v = bpf_map_lookup_elem(&counts, k);

	if (v)
		return v;
	bpf_map_update_elem(&counts, k, &zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&counts, k);
	if (!v)
		stat_inc(CPU_STAT_MAP_FULL);
	return v;
}

static __always_inline struct cpu_thread *thread_of(__u32 tid)
{
	static const struct cpu_thread zero;
	struct cpu_thread *t = bpf_map_lookup_elem(&threads, &tid);

	if (t)
		return t;
	bpf_map_update_elem(&threads, &tid, &zero, BPF_NOEXIST);
	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t)
		stat_inc(CPU_STAT_THREADS_FULL);
	return t;
}

SEC("perf_event")
int cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct cpu_key k = {};
	struct cpu_val *v;
	struct cpu_thread *t;

	if (!followed((__u32)(id >> 32)))
		return 0;
	if (!first_sample_ns)
		first_sample_ns = bpf_ktime_get_ns();
	stat_inc(CPU_STAT_SAMPLES);
	/* A sample taken in user mode has no kernel stack (kernel addresses
	 * have the top bit set). */
	fill_key(ctx, &k, (__u32)id, (long)PT_REGS_IP(&ctx->regs) < 0);
	v = val_of(&k);
	if (v)
		__sync_fetch_and_add(&v->samples, 1);
	t = thread_of((__u32)id);
	if (t) {
		bpf_get_current_comm(t->comm, sizeof(t->comm));
		t->tgid = (__u32)(id >> 32);
		if (follow_children)
			BPF_CORE_READ_STR_INTO(&t->pcomm,
					       (struct task_struct *)bpf_get_current_task(),
					       group_leader, comm);
		__sync_fetch_and_add(&t->samples, 1);
	}
	return 0;
}

/* prev stops running at now with its CPU clock at sum: its exact on-CPU
 * time since the last switch seen (its CPU clock holds still while it is
 * off-CPU, so a switch-in not seen changes nothing), or since attach when
 * it was running then (born at born, CLOCK_MONOTONIC).  Returns the part of the run since its switch-in
 * that its CPU clock did not count, which the off-CPU episode that
 * follows takes (negative when the clock counted more than the run: see
 * debt in cpu.h). */
static __always_inline __s64 switch_out(struct cpu_thread *t, __u64 sum, __u64 now, __u64 born)
{
	__u64 on, span;

	if (t->flags & CPU_THREAD_SWITCHED)
		on = sum - t->in_sum;
	else if (attach_ns && born >= attach_ns)
		on = sum; /* born while watched, its switch-in not seen */
	else if (attach_ns && now > attach_ns)
		on = now - attach_ns; /* running since before attach */
	else
		on = 0;
	span = t->in_ts ? now - t->in_ts : on;
	t->flags |= CPU_THREAD_SWITCHED;
	t->in_sum = sum;
	t->in_ts = 0;
	__sync_fetch_and_add(&t->oncpu_ns, on);
	return (__s64)(span - on);
}

/* Books an off-CPU episode of d ns (signed) under key: what the thread's
 * CPU clock ran ahead of the wall is paid first, a negative d adds to that
 * debt.  An episode shorter than --min-block is not counted. */
static __always_inline void book_offcpu(struct cpu_thread *t, struct cpu_key *key, __s64 d)
{
	struct cpu_val *v;
	__u64 pay;

	if (t) {
		if (d < 0) {
			t->debt += (__u64)-d;
			stat_inc(CPU_STAT_OFFCPU_ABSORBED);
			return;
		}
		pay = t->debt < (__u64)d ? t->debt : (__u64)d;
		t->debt -= pay;
		d -= (__s64)pay;
		if (pay && !d) {
			stat_inc(CPU_STAT_OFFCPU_ABSORBED);
			return;
		}
	}
	if (d < 0 || (__u64)d < min_block_ns)
		return;
	stat_inc(CPU_STAT_SWITCHES);
	v = val_of(key);
	if (v)
		__sync_fetch_and_add(&v->offcpu_ns, (__u64)d);
	if (t)
		__sync_fetch_and_add(&t->offcpu_ns, (__u64)d);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(cpu_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	/* One timestamp for both threads, taken first: prev's stack walk
	 * below must not count as next's off-CPU time. */
	__u64 now = bpf_ktime_get_ns();
	struct cpu_thread *t;
	struct cpu_start *s;
	__u32 tid;

	/* prev is current: record where it stops running (not when it is
	 * dying: a dead thread never comes back). */
	if (followed(BPF_CORE_READ(prev, tgid))) {
		__u64 sum = BPF_CORE_READ(prev, se.sum_exec_runtime);
		struct cpu_start st = {};
		__s64 slack = 0;

		tid = BPF_CORE_READ(prev, pid);
		t = thread_of(tid);
		s = bpf_map_lookup_elem(&starts, &tid);
		if (s) {
			/* Its last switch-in was not seen: the episode that
			 * began at s->ts lasted the time since, less what its
			 * CPU clock counted since. */
			stat_inc(CPU_STAT_SWITCH_IN_UNSEEN);
			book_offcpu(t, &s->key, (__s64)(now - s->ts) - (__s64)(sum - s->sum));
		}
		if (t) {
			__u64 born = BPF_CORE_READ(prev, start_time);

			if (!t->first_ts) /* running since attach, or since born */
				t->first_ts = born > attach_ns ? born : attach_ns;
			t->last_ts = now;
			slack = switch_out(t, sum, now, born);
			if (prev_state & TASK_DEAD)
				t->flags |= CPU_THREAD_DEAD;
		}
		if (!(prev_state & TASK_DEAD)) {
			st.ts = now - slack;
			st.sum = sum;
			fill_key(ctx, &st.key, tid, true);
			/* Preempted, or woken before it could block: waiting
			 * to run, not blocked (the tracepoint's own rule). */
			st.key.flags = preempt || prev_state == 0 ? CPU_KEY_RUNNABLE : 0;
			if (bpf_map_update_elem(&starts, &tid, &st, BPF_ANY))
				stat_inc(CPU_STAT_START_FULL);
		} else if (s) {
			bpf_map_delete_elem(&starts, &tid);
		}
	}
	if (followed(BPF_CORE_READ(next, tgid))) {
		struct cpu_start pre = {};

		tid = BPF_CORE_READ(next, pid);
		/* Every thread that runs while we watch is known, whatever
		 * follows: absent from threads means never switched in. */
		t = thread_of(tid);
		if (t) {
			BPF_CORE_READ_STR_INTO(&t->comm, next, comm);
			t->tgid = BPF_CORE_READ(next, tgid);
			if (follow_children)
				BPF_CORE_READ_STR_INTO(&t->pcomm, next, group_leader, comm);
			t->flags |= CPU_THREAD_SWITCHED;
			t->in_sum = BPF_CORE_READ(next, se.sum_exec_runtime);
			t->in_ts = now;
			t->last_ts = now;
		}
		s = bpf_map_lookup_elem(&starts, &tid);
		if (!s) {
			/* Switched out before we attached: its blocking time
			 * since attach counts, where it blocked is unknown.
			 * A thread born since has no such time. */
			if (!attach_ns || BPF_CORE_READ(next, start_time) >= attach_ns) {
				if (t && !t->first_ts)
					t->first_ts = now;
				return 0;
			}
			if (t && !t->first_ts)
				t->first_ts = attach_ns;
			pre.ts = attach_ns;
			pre.key.tid = tid;
			pre.key.ustack = -1;
			pre.key.kstack = -1;
			pre.key.flags = CPU_KEY_PRE_ATTACH;
			s = &pre;
		}
		book_offcpu(t, &s->key, (__s64)(now - s->ts));
		bpf_map_delete_elem(&starts, &tid);
	}
	return 0;
}

/* A new process (not a thread: child->pid == child->tgid) forked by the
 * target or one of its descendants joins procs.  A child inherits its
 * forking thread's cpu-clock event, so it is sampled from its first run.
 * Entries stay until detach: a process's last thread switches out for
 * good after its exit tracepoints, so removing it at exit would lose that
 * last run.  Nor is that last switch-out known when it comes: the thread
 * that takes signal->live to 0 in do_exit is not the last to switch out
 * (the others may still be on their way to theirs), and user space sees a
 * thread's /proc entry go at release_task, before its final switch. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(cpu_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), pid = BPF_CORE_READ(child, pid);
	__u8 one = 1;

	if (pid != BPF_CORE_READ(child, tgid))
		return 0;
	if (ptgid != targ_tgid && !bpf_map_lookup_elem(&procs, &ptgid))
		return 0;
	stat_inc(CPU_STAT_FORKED);
	if (bpf_map_update_elem(&procs, &pid, &one, BPF_ANY) && follow_children)
		stat_inc(CPU_STAT_PROCS_FULL);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
