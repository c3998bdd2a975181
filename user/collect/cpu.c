/* cpu collector: where the wall-clock time goes.  On-CPU samples from
 * cpu-clock perf events on the target's threads (inherited by new ones),
 * off-CPU time from sched_switch, both aggregated in BPF by (thread, user
 * stack, kernel stack).  Each thread's on-CPU time is exact (its CPU
 * clock between switch-in and switch-out); its samples only split that
 * time across its stacks.  Wall time = on-CPU + off-CPU time. */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "run/collector.h"
#include "cpu.h"
#include "cpu.skel.h"
#include "model/functable.h"
#include "probe/perf_event.h"
#include "run/features.h"
#include "symbols/stack.h"
#include "symbols/stacktab.h"
#include "symbols/perfmap.h"
#include "symbols/symbolize.h"
#include "unwind.h"
#include "unwind/share.h"
#include "util/bpfmap.h"
#include "util/util.h"

enum { M_ONCPU, M_OFFCPU, M_WALL, M_SAMPLES, M_N };

static const struct pmetric_def cpu_metrics[M_N] = {
	[M_ONCPU] = { "oncpu", "ns", "on-CPU time (exact per thread, split by samples)" },
	[M_OFFCPU] = { "offcpu", "ns", "time blocked or waiting to run" },
	[M_WALL] = { "wall", "ns", "on-CPU + off-CPU time" },
	[M_SAMPLES] = { "samples", "samples", "on-CPU samples" },
};

static const struct pcol_def function_cols[] = {
	FUNCTABLE_VALUE_COLS,
	{ "samples", "samples", NULL, COL_INT, 0, 0, "samples" },
	FUNCTABLE_NAME_COLS,
};

/* With --metric: one table of that metric (wall: the combined view).
 * Without: on-CPU and off-CPU apart, the on-CPU one first, so that the
 * threads blocked all along cannot push the work off the first screen. */
static const struct ptable_def function_table = {
	"functions", "Functions", function_cols, ARRAY_SIZE(function_cols), 0, 0,
};
static const struct ptable_def oncpu_table = {
	"functions_oncpu", "On-CPU functions", function_cols, ARRAY_SIZE(function_cols), 0, 0,
};
static const struct ptable_def offcpu_table = {
	"functions_offcpu",
	"Off-CPU functions (where threads blocked or waited to run)",
	function_cols,
	ARRAY_SIZE(function_cols),
	0,
	0,
};

enum { T_TID, T_ONCPU, T_SAMPLES, T_OFFCPU, T_WALL, T_START, T_END, T_IDLE, T_COMM };

/* Every thread has a row; an idle one (T_IDLE 1) is left out of text,
 * where the info line idle_threads sums them. */
static const struct pcol_def thread_cols[] = {
	[T_TID] = { "tid", "tid", "", COL_INT },
	[T_ONCPU] = { "oncpu", "on-cpu", "ns", COL_INT },
	[T_SAMPLES] = { "samples", "samples", "count", COL_INT },
	[T_OFFCPU] = { "offcpu", "off-cpu", "ns", COL_INT },
	[T_WALL] = { "wall", "wall", "ns", COL_INT },
	[T_START] = { "start", "from", "ns", COL_INT },
	[T_END] = { "end", "to", "ns", COL_INT },
	[T_IDLE] = { "idle", "idle", "count", COL_INT, 1, 0, NULL, 1 },
	[T_COMM] = { "comm", "thread", "", COL_STR },
};

static const struct ptable_def thread_table = {
	"threads", "Threads", thread_cols, ARRAY_SIZE(thread_cols), T_WALL, 0,
};

static const struct ptable_def *const cpu_tables[] = {
	&function_table, &oncpu_table, &offcpu_table, &thread_table, NULL,
};

/* A thread whose on-CPU time is under this share of its wall time is idle:
 * summarised in one line instead of a row of the text threads table. */
#define CPU_IDLE_PCT 1

struct cpu_state {
	struct cpu_bpf *skel;
	const struct options *opts;
	struct target *target;
	struct symbolizer *sym; /* the run's (the target's share), from the first report */
	struct perf_events pe;
	struct bpf_link *switch_link;
	struct bpf_link *fork_link; /* cpu_fork: the descendants forked since attach */
	uint64_t nattach;	    /* descendants running at attach */
	uint64_t t_start;	    /* CLOCK_MONOTONIC ns at attach */
	uint64_t t_stop;	    /* and at stop; 0 while collecting */
	uint64_t period_ns;
	int first_seen;
	struct stacktab stacks; /* the frames map's stacks, moved out by id */
	uint64_t drained;	/* ids moved out of the frames map so far */
	uint64_t drains;	/* of them while collecting, as the map filled */
};

static void cpu_close(void *state);

/* What cpu.bpf.c and cpu_attach use from the kernel. */
static const enum feature cpu_needs[] = {
	FEAT_BTF,      FEAT_RAW_TRACEPOINT, FEAT_TP_SCHED_SWITCH, FEAT_PERF_CPU_CLOCK,
	FEAT_BPF_LOOP, /* the user stack walker */
};

static int cpu_open(void **statep, const struct options *o, struct target *t)
{
	struct cpu_state *s;
	int err;

	if (features_require("the cpu report", cpu_needs, ARRAY_SIZE(cpu_needs)))
		return -ENOTSUP;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = o;
	s->target = t;
	s->period_ns = 1000000000ull / (uint64_t)o->frequency;
	stacktab_init(&s->stacks, CPU_MAX_STACK_DEPTH);
	s->skel = cpu_bpf__open();
	if (!s->skel) {
		err = -errno;
		collector_bpf_error("cpu", 0, err);
		goto fail;
	}
	s->skel->rodata->targ_tgid = (uint32_t)t->pid;
	s->skel->rodata->follow_children = o->children != 0;
	s->skel->rodata->min_block_ns = o->min_block_ns;
	s->skel->rodata->unwind_mode = (uint32_t)o->unwind;
	err = unwind_share__use(t->share, s->skel->obj);
	if (err)
		goto fail;
	err = cpu_bpf__load(s->skel);
	if (err) {
		collector_bpf_error("cpu", 1, err);
		goto fail;
	}
	*statep = s;
	return 0;
fail:
	cpu_close(s);
	return err;
}

/* proc_children callback: one descendant into the procs map, then its
 * own children (a process already there was walked). */
static int add_descendant(pid_t pid, void *ctx)
{
	struct cpu_state *s = ctx;
	uint32_t key = (uint32_t)pid;
	uint8_t one = 1;

	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.procs), &key, &one, BPF_NOEXIST)) {
		if (errno == E2BIG && s->opts->children)
			__atomic_fetch_add(&s->skel->bss->stats[CPU_STAT_PROCS_FULL], 1,
					   __ATOMIC_RELAXED);
		return 0;
	}
	s->nattach++;
	return proc_children(pid, add_descendant, s);
}

/* --children: the sampling events of every process in the procs map, until
 * a pass finds none new (a process forked before its parent's events were
 * opened inherits none).  One that exits meanwhile is skipped. */
static void sample_descendants(struct cpu_state *s)
{
	int fd = bpf_map__fd(s->skel->maps.procs), started, added;
	pid_t *done = NULL;
	size_t n = 0, cap = 0;
	uint32_t pid;
	uint8_t v;

	do {
		added = 0;
		started = 0;
		while (map_next_entry(fd, &pid, sizeof(pid), &started, &v)) {
			size_t i = 0;
			int err;

			while (i < n && done[i] != (pid_t)pid)
				i++;
			if (i < n || array_grow((void **)&done, &cap, n + 1, sizeof(*done)))
				continue;
			done[n++] = (pid_t)pid;
			added = 1;
			err = perf_events_add_process(&s->pe, s->opts->frequency,
						      s->skel->progs.cpu_sample, (pid_t)pid);
			if (err)
				ebprof_verbose(1, "cpu: no sampling of child %u: %s", pid,
					       strerror(-err));
		}
	} while (added);
	free(done);
}

static int cpu_attach(void *state)
{
	struct cpu_state *s = state;
	int err;

	/* The fork program first: no descendant is missed between the walk
	 * of /proc and the forks that follow it. */
	s->fork_link = bpf_program__attach(s->skel->progs.cpu_fork);
	if (!s->fork_link) {
		err = -errno;
		ebprof_err("cannot attach to sched_process_fork: %s", strerror(-err));
		return err;
	}
	if (!s->target->launched)
		proc_children(s->target->pid, add_descendant, s);

	/* A launched command is held before exec: its one thread's event is
	 * inherited by everything it starts. */
	err = perf_events_add_process(&s->pe, s->opts->frequency, s->skel->progs.cpu_sample,
				      s->target->pid);
	if (err) {
		ebprof_err("cannot start cpu-clock sampling of pid %d: %s", (int)s->target->pid,
			   strerror(-err));
		return err;
	}
	if (s->opts->children)
		sample_descendants(s);
	/* Time starts before sched_switch is traced: every switch seen is
	 * inside the window. */
	s->t_start = now_ns();
	s->skel->bss->attach_ns = s->t_start;
	s->switch_link = bpf_program__attach(s->skel->progs.cpu_switch);
	if (!s->switch_link) {
		err = -errno;
		ebprof_err("cannot attach to sched_switch: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* Moves the frames map's stacks into s->stacks (so that the map holds
 * only the stacks new since: no sample's stack is lost to a full map
 * unless CPU_MAX_STACKS new ones come within one tick). */
static int drain_stacks(struct cpu_state *s)
{
	long n = stacktab_drain(bpf_map__fd(s->skel->maps.frames), &s->stacks);

	if (n < 0)
		return (int)n;
	s->drained += (uint64_t)n;
	return 0;
}

static int cpu_tick(void *state)
{
	struct cpu_state *s = state;
	uint64_t added; /* stacks the BPF side added to the frames map, all CPUs */

	if (!s->first_seen && s->skel->bss->first_sample_ns) {
		s->first_seen = 1;
		ebprof_verbose(1, "cpu: first sample within %.1f ms of start",
			       (double)(s->skel->bss->first_sample_ns - ebprof_start_ns) / 1e6);
	}
	/* Half full (added and not moved out yet).  Should a drain fail (no
	 * memory), the map fills and its losses are counted as
	 * lost_stackmap_full. */
	added = map_percpu_u64_sum(bpf_map__fd(s->skel->maps.frames_added), 0,
				   libbpf_num_possible_cpus());
	if (added - s->drained >= CPU_MAX_STACKS / 2 && !drain_stacks(s))
		s->drains++;
	return 0;
}

/* What was wrong with the target's perf map (JIT symbols), if anything. */
static void perfmap_notes(const struct symbolizer *sym, struct profile *p)
{
	size_t entries, bad;
	int truncated;

	symbolizer_perfmap_stats(sym, &entries, &bad, &truncated);
	if (bad)
		profile_note(p, "perf map: %zu malformed line(s) skipped (%zu entries read)", bad,
			     entries);
	if (truncated)
		profile_note(p, "perf map: only its first %u MiB read (size bound)",
			     PERFMAP_MAX_BYTES >> 20);
}

/* One report being built.  Reports read the kernel maps and never write
 * them, so one can be taken while collecting (a snapshot) and any number
 * after stop, each giving the same totals: what BPF has not counted yet
 * (in-flight and whole-run off-CPU time) is added here, in user space.
 * After stop the maps and the clock (t_stop) hold still; what /proc says
 * of the target's threads (alive, running, where they sleep) is read per
 * report, and changes only if one exits or wakes in between. */
struct cpu_rep {
	struct cpu_state *s;
	struct profile *p;
	struct stack_conv conv;
	struct ptable *threads;
	uint64_t now;	  /* CLOCK_MONOTONIC, as bpf_ktime_get_ns: stop time once stopped */
	uint64_t elapsed; /* since attach */
	struct {
		uint64_t n, oncpu, offcpu;
	} idle; /* the idle threads, marked idle in the threads table */
};

/* The process whose /proc/PID/task holds thread tid: the target, or with
 * --children any process (/proc/TID/task/TID names the thread itself). */
static pid_t proc_of(const struct cpu_rep *rp, uint32_t tid)
{
	return rp->s->opts->children ? (pid_t)tid : rp->s->target->pid;
}

/* A thread's exact on-CPU time at rp->now: what BPF counted, plus the run
 * in progress (since its switch-in, or the whole run when it was never
 * seen switching: running all along). */
static uint64_t thread_oncpu(const struct cpu_rep *rp, uint32_t tid, const struct cpu_thread *th)
{
	uint64_t on = th->oncpu_ns;

	if (!(th->flags & CPU_THREAD_SWITCHED))
		return rp->elapsed;
	if (th->in_ts && th->in_ts < rp->now && !(th->flags & CPU_THREAD_DEAD) &&
	    task_alive(proc_of(rp, tid), (pid_t)tid))
		on += rp->now - th->in_ts;
	return on;
}

/* The on-CPU time of an entry's samples: its share of its thread's
 * samples times the thread's exact on-CPU time (samples x period for a
 * thread the threads map could not hold). */
static uint64_t entry_oncpu(const struct cpu_rep *rp, uint32_t tid, uint64_t samples)
{
	struct cpu_thread th;
	int tfd = bpf_map__fd(rp->s->skel->maps.threads);

	if (bpf_map_lookup_elem(tfd, &tid, &th) || !th.samples)
		return samples * rp->s->period_ns;
	return (uint64_t)((double)thread_oncpu(rp, tid, &th) * (double)samples /
			  (double)th.samples);
}

/* The frames of stack id (a negative id: not captured) onto st. */
static void add_stack(struct cpu_rep *rp, struct stackbuf *st, int kernel, int id)
{
	const uint64_t *ips = NULL;
	size_t n = stacktab_get(&rp->s->stacks, id, &ips);

	stack_from_ips(&rp->conv, st, kernel, ips, n);
}

/* Adds one (thread, stacks) entry's values: off-CPU time under its
 * off-CPU marker, samples under the bare stack. */
static int add_entry(struct cpu_rep *rp, struct stackbuf *st, const struct cpu_key *key,
		     const struct cpu_val *v)
{
	struct profile *p = rp->p;
	int64_t vals[M_N] = { 0 };
	int err = 0;

	st->n = 0;
	if (key->flags & CPU_KEY_PRE_ATTACH) {
		stackbuf_push(st, profile_frame(p, FRAME_MARKER, "[blocked since before attach]",
						NULL, 0));
	} else {
		add_stack(rp, st, 0, key->ustack);
		add_stack(rp, st, 1, key->kstack);
	}
	if (v->offcpu_ns) {
		/* One entry holds either on- or off-CPU values in practice;
		 * split them so off-CPU stacks end in a marker frame. */
		const char *m = key->flags & CPU_KEY_RUNNABLE ? "[runnable]" : "[off-cpu]";
		size_t base = st->n;

		stackbuf_push(st, profile_frame(p, FRAME_MARKER, m, NULL, 0));
		vals[M_OFFCPU] = (int64_t)v->offcpu_ns;
		vals[M_WALL] = (int64_t)v->offcpu_ns;
		err = st->err ? st->err : profile_add_sample(p, st->frames, (uint32_t)st->n, vals);
		st->n = base;
	}
	if (!err && v->samples) {
		uint64_t on = entry_oncpu(rp, key->tid, v->samples);

		vals[M_ONCPU] = (int64_t)on;
		vals[M_OFFCPU] = 0;
		vals[M_WALL] = (int64_t)on;
		vals[M_SAMPLES] = (int64_t)v->samples;
		err = st->err ? st->err : profile_add_sample(p, st->frames, (uint32_t)st->n, vals);
	}
	return err;
}

/* A thread still switched out (st from the starts map) at rp->now: its
 * blocking time so far counts too (a thread asleep for the whole run is
 * the answer).  1 with *d when it does, 0 when it exited since or blocked
 * shorter than --min-block. */
static int inflight(const struct cpu_rep *rp, uint32_t tid, const struct cpu_start *st, uint64_t *d)
{
	if (st->ts > rp->now || !task_alive(proc_of(rp, tid), (pid_t)tid))
		return 0;
	*d = rp->now - st->ts;
	return *d >= rp->s->opts->min_block_ns;
}

/* The counts map, then the in-flight off-CPU time of the starts map under
 * the stacks where each thread blocked. */
static int add_counts(struct cpu_rep *rp)
{
	struct cpu_state *s = rp->s;
	int cfd = bpf_map__fd(s->skel->maps.counts);
	int sfd = bpf_map__fd(s->skel->maps.starts);
	struct stackbuf st = { 0 };
	struct cpu_key key;
	struct cpu_val v;
	struct cpu_start start;
	uint32_t tid;
	int err = 0, started = 0;

	while (!err && map_next_entry(cfd, &key, sizeof(key), &started, &v))
		err = add_entry(rp, &st, &key, &v);
	started = 0;
	while (!err && map_next_entry(sfd, &tid, sizeof(tid), &started, &start)) {
		struct cpu_val in = { 0 };
		uint64_t d;

		if (inflight(rp, tid, &start, &d)) {
			in.offcpu_ns = d;
			err = add_entry(rp, &st, &start.key, &in);
		}
	}
	free(st.frames);
	return err;
}

/* A thread's on-CPU time that no sample landed in (it ran for less than
 * a sampling period at a time): under a marker, so that every table and
 * graph adds up to the threads' exact totals. */
static int add_unsampled(struct cpu_rep *rp, uint64_t oncpu)
{
	int64_t vals[M_N] = { 0 };
	int64_t f = profile_frame(rp->p, FRAME_MARKER, "[on-cpu, not sampled]", NULL, 0);
	uint32_t frame = (uint32_t)f;

	if (f < 0)
		return (int)f;
	vals[M_ONCPU] = vals[M_WALL] = (int64_t)oncpu;
	return profile_add_sample(rp->p, &frame, 1, vals);
}

/* A thread's row in the threads table (idle ones marked and counted in
 * rp->idle); start and end: the span it was watched, CLOCK_MONOTONIC. */
static int thread_row(struct cpu_rep *rp, uint32_t tid, const struct cpu_thread *th, uint64_t oncpu,
		      uint64_t start, uint64_t end)
{
	struct ptable *t = rp->threads;
	uint64_t t0 = rp->s->t_start;
	int idle = oncpu * 100 < (oncpu + th->offcpu_ns) * CPU_IDLE_PCT;
	int64_t r;

	if (idle) {
		rp->idle.n++;
		rp->idle.oncpu += oncpu;
		rp->idle.offcpu += th->offcpu_ns;
	}
	r = ptable_add_row(t);
	if (r < 0)
		return (int)r;
	ptable_cell(t, r, T_TID)->i = tid;
	ptable_cell(t, r, T_ONCPU)->i = (int64_t)oncpu;
	ptable_cell(t, r, T_SAMPLES)->i = (int64_t)th->samples;
	ptable_cell(t, r, T_OFFCPU)->i = (int64_t)th->offcpu_ns;
	ptable_cell(t, r, T_WALL)->i = (int64_t)(oncpu + th->offcpu_ns);
	ptable_cell(t, r, T_START)->i = start > t0 ? (int64_t)(start - t0) : 0;
	ptable_cell(t, r, T_END)->i = end > t0 ? (int64_t)(end - t0) : 0;
	ptable_cell(t, r, T_IDLE)->i = idle;
	if (rp->s->opts->children && th->tgid) {
		char label[2 * CPU_COMM_LEN + 32];

		snprintf(label, sizeof(label), "%.*s [pid %u %.*s]", CPU_COMM_LEN, th->comm,
			 th->tgid, CPU_COMM_LEN, th->pcomm);
		return ptable_set_str(t, r, T_COMM, label);
	}
	return ptable_set_str(t, r, T_COMM, th->comm);
}

/* One row per thread BPF saw, with its in-flight off-CPU time; then the
 * threads only seen switching out, by their in-flight time alone.  A
 * thread still alive is watched until now, an exited one until its last
 * switch-out. */
static int add_thread_rows(struct cpu_rep *rp)
{
	struct cpu_state *s = rp->s;
	int tfd = bpf_map__fd(s->skel->maps.threads);
	int sfd = bpf_map__fd(s->skel->maps.starts);
	struct cpu_thread th;
	struct cpu_start start;
	uint32_t tid;
	uint64_t d, on, end;
	int err = 0, started = 0;

	while (!err && map_next_entry(tfd, &tid, sizeof(tid), &started, &th)) {
		th.comm[CPU_COMM_LEN - 1] = 0;
		th.pcomm[CPU_COMM_LEN - 1] = 0;
		if (!bpf_map_lookup_elem(sfd, &tid, &start) && inflight(rp, tid, &start, &d))
			th.offcpu_ns += d;
		on = thread_oncpu(rp, tid, &th);
		/* a zombie (a group leader not reaped yet) is alive to /proc */
		if (!th.last_ts ||
		    (!(th.flags & CPU_THREAD_DEAD) && task_alive(proc_of(rp, tid), (pid_t)tid)))
			end = rp->now;
		else
			end = th.last_ts;
		err = thread_row(rp, tid, &th, on, th.first_ts ? th.first_ts : s->t_start, end);
		if (!err && on && !th.samples)
			err = add_unsampled(rp, on);
	}
	started = 0;
	while (!err && map_next_entry(sfd, &tid, sizeof(tid), &started, &start)) {
		if (!bpf_map_lookup_elem(tfd, &tid, &th) || !inflight(rp, tid, &start, &d))
			continue;
		memset(&th, 0, sizeof(th));
		task_comm(proc_of(rp, tid), (pid_t)tid, th.comm, sizeof(th.comm));
		th.offcpu_ns = d;
		err = thread_row(rp, tid, &th, 0, start.ts, rp->now);
	}
	return err;
}

/* Threads that never ran while we watched: blocked for the whole run.
 * BPF never saw them switch in nor sampled them, so their time comes from
 * here, with the kernel stack where they sleep (/proc/PID/task/TID/stack);
 * their user stack cannot be read from outside.  A thread that is running
 * now (on a CPU since before attach, never switched, never sampled) is not
 * blocked. */
static int add_whole_run_blocked_of(struct cpu_rep *rp, pid_t pid)
{
	struct cpu_state *s = rp->s;
	struct profile *p = rp->p;
	int tfd = bpf_map__fd(s->skel->maps.threads);
	int sfd = bpf_map__fd(s->skel->maps.starts);
	char path[96];
	struct dirent *de;
	DIR *d;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0; /* exited: every thread ran at least to exit */
	while ((de = readdir(d)) && !err) {
		struct cpu_thread th = { 0 };
		struct cpu_start start;
		struct stackbuf st = { 0 };
		int64_t vals[M_N] = { 0 };
		uint32_t tid = (uint32_t)strtoul(de->d_name, NULL, 10);

		if (!tid || !bpf_map_lookup_elem(tfd, &tid, &th) ||
		    !bpf_map_lookup_elem(sfd, &tid, &start) || task_state(pid, (pid_t)tid) == 'R')
			continue;
		stackbuf_push(&st, profile_frame(p, FRAME_MARKER, "[blocked whole run]", NULL, 0));
		stack_from_proc(&rp->conv, &st, pid, (pid_t)tid);
		stackbuf_push(&st, profile_frame(p, FRAME_MARKER, "[off-cpu]", NULL, 0));
		vals[M_OFFCPU] = vals[M_WALL] = (int64_t)rp->elapsed;
		err = st.err ? st.err : profile_add_sample(p, st.frames, (uint32_t)st.n, vals);
		free(st.frames);
		task_comm(pid, (pid_t)tid, th.comm, sizeof(th.comm));
		task_comm(pid, pid, th.pcomm, sizeof(th.pcomm));
		th.tgid = (uint32_t)pid;
		th.offcpu_ns = rp->elapsed;
		if (!err)
			err = thread_row(rp, tid, &th, 0, s->t_start, rp->now);
	}
	closedir(d);
	return err;
}

/* The target's, and with --children every followed process's. */
static int add_whole_run_blocked(struct cpu_rep *rp)
{
	struct cpu_state *s = rp->s;
	int fd = bpf_map__fd(s->skel->maps.procs), started = 0, err;
	uint32_t pid;
	uint8_t v;

	if (rp->elapsed < s->opts->min_block_ns)
		return 0; /* the whole run is shorter than --min-block */
	err = add_whole_run_blocked_of(rp, s->target->pid);
	while (!err && s->opts->children && map_next_entry(fd, &pid, sizeof(pid), &started, &v))
		err = add_whole_run_blocked_of(rp, (pid_t)pid);
	return err;
}

/* Info key, label and kind of every counter, from include/cpu.h. */
static const struct cpu_stat_def {
	const char *key, *label;
	int lost;
} cpu_stat_defs[CPU_STAT_MAX] = {
#define CPU_STAT_DEF(name, key, label, lost) [CPU_STAT_##name] = { key, label, lost },
	CPU_STATS(CPU_STAT_DEF)
#undef CPU_STAT_DEF
};

/* Shows counter i summed with the ones after it that share its key;
 * returns the index past them. */
static int stat_info(struct profile *p, const __u64 *st, int i)
{
	const struct cpu_stat_def *d = &cpu_stat_defs[i];
	uint64_t v = 0;

	for (; i < CPU_STAT_MAX && !strcmp(cpu_stat_defs[i].key, d->key); i++)
		v += st[i];
	profile_info_int(p, d->key, d->label, "count", (int64_t)v);
	return i;
}

static const char *const unwind_names[] = {
	[UNWIND_MODE_AUTO] = "auto (CFI, frame pointers where none)",
	[UNWIND_MODE_DWARF] = "dwarf (CFI only)",
	[UNWIND_MODE_FP] = "fp (frame pointers)",
};

static void stats_info(struct cpu_rep *rp)
{
	struct cpu_state *s = rp->s;
	struct profile *p = rp->p;
	const __u64 *st = s->skel->bss->stats;
	uint64_t truncated = rp->conv.truncated, bad = rp->conv.bad_walks, lost = truncated + bad;

	for (int i = 0; i < CPU_STAT_MAX; i++)
		if (cpu_stat_defs[i].lost)
			lost += st[i];
	profile_info_int(p, "duration", "duration", "ns", (int64_t)rp->elapsed);
	profile_info_int(p, "attach_monotonic", "attached at (CLOCK_MONOTONIC ns)", "",
			 (int64_t)s->t_start);
	profile_info_int(p, "frequency", "frequency (Hz)", "count", s->opts->frequency);
	profile_info_str(p, "unwind", "user stacks (--unwind)", unwind_names[s->opts->unwind]);
	stat_info(p, st, CPU_STAT_SAMPLES);
	stat_info(p, st, CPU_STAT_SWITCHES);
	stat_info(p, st, CPU_STAT_OFFCPU_ABSORBED);
	stat_info(p, st, CPU_STAT_SWITCH_IN_UNSEEN);
	profile_info_int(p, "stacks", "distinct stacks kept", "count", (int64_t)s->stacks.n);
	profile_info_int(p, "stack_drains", "  moved out of the kernel's map as it filled", "count",
			 (int64_t)s->drains);
	profile_info_int(p, "lost", "lost or damaged samples", "count", (int64_t)lost);
	for (int i = 0; i < CPU_STAT_MAX;)
		i = cpu_stat_defs[i].lost ? stat_info(p, st, i) : i + 1;
	/* counted here, not in BPF: stacks as deep as the stack map holds */
	profile_info_int(p, "truncated", "  truncated stacks", "count", (int64_t)truncated);
	profile_info_int(p, "lost_bad_walk", "  stacks cut at a bad return address", "count",
			 (int64_t)bad);
}

/* Stops collecting, so that every report from here on is one consistent
 * snapshot: the maps hold still, and time stands at the stop. */
static void cpu_stop(void *state)
{
	struct cpu_state *s = state;

	perf_events_close(&s->pe);
	bpf_link__destroy(s->switch_link);
	s->switch_link = NULL;
	bpf_link__destroy(s->fork_link);
	s->fork_link = NULL;
	s->t_stop = now_ns();
}

/* The idle threads' line: their number and time between them. */
static void idle_info(struct cpu_rep *rp)
{
	char line[160];

	if (!rp->idle.n)
		return;
	snprintf(line, sizeof(line),
		 "%llu (on-CPU under %d %% of wall; %.3f s on-CPU, %.3f s off-CPU)",
		 (unsigned long long)rp->idle.n, CPU_IDLE_PCT, (double)rp->idle.oncpu / 1e9,
		 (double)rp->idle.offcpu / 1e9);
	profile_info_str(rp->p, "idle_threads", "idle threads (not in Threads)", line);
}

/* The target's descendants (running at attach or forked since): followed
 * with --children, else named in a note. */
static void children_info(struct cpu_rep *rp)
{
	struct cpu_state *s = rp->s;
	uint64_t n = s->nattach + s->skel->bss->stats[CPU_STAT_FORKED];
	int fd = bpf_map__fd(s->skel->maps.procs), started = 0, shown = 0;
	char pids[128] = "";
	size_t len = 0;
	uint32_t pid;
	uint8_t v;

	if (s->opts->children) {
		char line[96];

		snprintf(line, sizeof(line), "%llu (%llu at attach, %llu forked since)",
			 (unsigned long long)n, (unsigned long long)s->nattach,
			 (unsigned long long)s->skel->bss->stats[CPU_STAT_FORKED]);
		profile_info_str(rp->p, "children", "child processes followed (--children)", line);
		return;
	}
	if (!n)
		return;
	while (map_next_entry(fd, &pid, sizeof(pid), &started, &v) && len < sizeof(pids) - 16) {
		len += (size_t)snprintf(pids + len, sizeof(pids) - len, "%s%u", shown ? " " : "",
					pid);
		shown++;
	}
	profile_note(rp->p,
		     "target has %llu child process(es) (pids %s%s); --children follows them",
		     (unsigned long long)n, pids, (uint64_t)shown < n ? " ..." : "");
}

/* The function tables: the metric asked for, else on- and off-CPU apart. */
static int function_tables(struct cpu_rep *rp, int metric)
{
	int err;

	if (rp->s->opts->metric)
		return profile_function_table(rp->p, &function_table, metric);
	err = profile_function_table(rp->p, &oncpu_table, M_ONCPU);
	return err ? err : profile_function_table(rp->p, &offcpu_table, M_OFFCPU);
}

/* The samples, the call graph and the tables, in this order. */
static int build(struct cpu_rep *rp, int metric)
{
	struct cpu_state *s = rp->s;
	int err;

	err = stack_conv_init(&rp->conv, rp->p, s->sym, -1, CPU_MAX_STACK_DEPTH);
	if (!err)
		err = drain_stacks(s);
	if (err)
		return err;
	rp->threads = profile_table_def(rp->p, &thread_table, NULL);
	if (!rp->threads)
		return -ENOMEM;
	err = add_counts(rp);
	if (!err)
		err = add_thread_rows(rp);
	if (!err)
		err = add_whole_run_blocked(rp);
	if (!err)
		err = profile_build_graph(rp->p);
	if (!err)
		err = function_tables(rp, metric);
	return err;
}

/* A symbolizer's line for the profile's notes. */
static void note_line(void *ctx, const char *line)
{
	profile_note(ctx, "%s", line);
}

static int cpu_report(void *state, struct profile **out)
{
	struct cpu_state *s = state;
	struct cpu_rep rp = { .s = s };
	struct profile *p;
	int metric, err;

	rp.now = s->t_stop ? s->t_stop : now_ns(); /* CLOCK_MONOTONIC, as bpf_ktime_get_ns */
	rp.elapsed = rp.now - s->t_start;
	s->sym = unwind_share__symbolizer(s->target->share);
	if (!s->sym)
		return -ENOMEM;

	p = rp.p = profile_new("cpu", "CPU: where the wall-clock time goes "
				      "(exact on-CPU time split by samples + off-CPU time)");
	if (!p)
		return -ENOMEM;
	if (profile_add_metric_defs(p, cpu_metrics, M_N)) {
		profile_free(p);
		return -ENOMEM;
	}
	metric = profile_metric_index(p, s->opts->metric ? s->opts->metric : "wall");
	if (metric < 0)
		metric = M_WALL; /* --metric names another report's metric */
	p->default_metric = metric;
	err = build(&rp, metric);
	if (!err)
		stats_info(&rp);
	stack_conv_free(&rp.conv);
	if (err) {
		profile_free(p);
		return err;
	}
	profile_info_int(p, "oncpu", "on-CPU time (all threads)", "ns",
			 profile_metric_total(p, M_ONCPU));
	profile_info_int(p, "offcpu_total", "off-CPU time (all threads)", "ns",
			 profile_metric_total(p, M_OFFCPU));
	profile_info_int(p, "wall_total", "wall time (all threads)", "ns",
			 profile_metric_total(p, M_WALL));
	idle_info(&rp);
	children_info(&rp);
	symbolizer_source_notes(s->sym, note_line, p);
	if (s->skel->bss->stats[CPU_STAT_SAMPLES] == 0)
		profile_note(p,
			     "no on-CPU samples at %d Hz: the target ran on a CPU for less than "
			     "a few sampling periods while profiled, or not at all",
			     s->opts->frequency);
	perfmap_notes(s->sym, p);
	*out = p;
	return 0;
}

static void cpu_close(void *state)
{
	struct cpu_state *s = state;

	if (!s)
		return;
	perf_events_close(&s->pe);
	bpf_link__destroy(s->switch_link);
	bpf_link__destroy(s->fork_link);
	cpu_bpf__destroy(s->skel);
	stacktab_free(&s->stacks);
	free(s);
}

const struct collector_ops cpu_collector = {
	.name = "cpu",
	.desc = "sampled on-CPU stacks and off-CPU (blocked) time per stack",
	.default_on = 1,
	.tables = cpu_tables,
	.metrics = cpu_metrics,
	.nmetrics = M_N,
	.default_metric = M_WALL,
	.attach_at_load = 1,
	.open = cpu_open,
	.attach = cpu_attach,
	.tick = cpu_tick,
	.stop = cpu_stop,
	.report = cpu_report,
	.close = cpu_close,
};
