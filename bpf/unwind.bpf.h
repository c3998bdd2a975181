/* SPDX-License-Identifier: GPL-2.0 */
/* The user stack walker shared by the BPF programs: the unwind tables
 * (include/unwind.h, filled by user/unwind/tables.c; one set per run,
 * every object's maps reused from user/unwind/share.c) and a walk from given user registers that
 * follows each frame's CFI row, or its frame pointer where the row says
 * so (or, with --unwind auto, where no CFI covers the pc).  A return
 * address a pending uretprobe replaced by its trampoline is put back.
 *
 * A program includes this once (it defines maps and the unwind_mode
 * constant), takes the registers (unwind_task_regs, or a uprobe's ctx)
 * and calls unwind_walk with an array of UNWIND_MAX_FRAMES entries; the
 * walk's loss, if it was cut, is the program's to count. */
#ifndef EBPROF_UNWIND_BPF_H
#define EBPROF_UNWIND_BPF_H

#include "unwind.h"

const volatile __u32 unwind_mode = UNWIND_MODE_AUTO; /* enum unwind_mode */

/* The rows of file i: an array of exactly its rows, made by user space
 * (user/unwind/tables.c); BPF_F_INNER_MAP lets each have its own size. */
struct unwind_file_rows {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct unwind_row)); /* a type here would be a BTF forward */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, UNWIND_MAX_FILES);
	__type(key, __u32);
	__array(values, struct unwind_file_rows);
} unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UNWIND_MAX_FILES);
	__type(key, __u32);
	__type(value, struct unwind_file);
} unwind_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * UNWIND_MAX_MAPPINGS);
	__type(key, __u32);
	__type(value, struct unwind_mapping);
} unwind_maps SEC(".maps");

/* Which of unwind_maps' two sets is in use, and how many of its entries
 * (UNWIND_MAPS_SET, include/unwind.h): in a section of its own (a
 * one-entry array libbpf makes, as for .bss), so that every object of a
 * run reuses the one count with the tables (user/unwind/share.c). */
__u32 unwind_nmaps SEC(".data.unwind") = 0;

/* Why a walk was cut before its outermost frame (its caller counts it). */
enum unwind_loss {
	UNWIND_LOST_NONE = -1,
	UNWIND_LOST_READ = 0,	   /* the stack could not be read */
	UNWIND_LOST_NO_INFO = 1,   /* --unwind dwarf: a pc without CFI */
	UNWIND_LOST_TOO_LARGE = 2, /* a file whose table was over a limit */
};

/* The mapping holding ip (binary search of the sorted set of unwind_maps
 * in use). */
static __always_inline struct unwind_mapping *unwind_mapping_of(__u64 ip)
{
	__u32 v = unwind_nmaps, n = v & ~UNWIND_MAPS_SET;
	__u32 base = UNWIND_MAPS_BASE(v);
	__u32 lo, hi, idx;
	struct unwind_mapping *m;

	if (n > UNWIND_MAX_MAPPINGS)
		n = UNWIND_MAX_MAPPINGS;
	lo = base;
	hi = base + n;
	for (int i = 0; i < UNWIND_MAP_STEPS && lo < hi; i++) {
		__u32 mid = lo + (hi - lo) / 2;

		m = bpf_map_lookup_elem(&unwind_maps, &mid);
		if (!m)
			return NULL;
		if (m->start <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == base)
		return NULL;
	idx = lo - 1;
	m = bpf_map_lookup_elem(&unwind_maps, &idx);
	return m && ip < m->end ? m : NULL;
}

/* The row of file at link-time address pc, or NULL. */
static __always_inline struct unwind_row *unwind_row_of(__u32 file, __u64 pc)
{
	struct unwind_file *uf = bpf_map_lookup_elem(&unwind_files, &file);
	void *rows = bpf_map_lookup_elem(&unwind_rows, &file);
	struct unwind_row *r;
	__u32 lo = 0, hi, idx;

	if (!uf || !uf->n || !rows || pc > 0xffffffffull)
		return NULL;
	hi = uf->n;
	for (int i = 0; i < UNWIND_SEARCH_STEPS && lo < hi; i++) {
		__u32 mid = lo + (hi - lo) / 2;

		r = bpf_map_lookup_elem(rows, &mid);
		if (!r)
			return NULL;
		if (r->pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	idx = lo - 1;
	return bpf_map_lookup_elem(rows, &idx);
}

/* The walk of one user stack (bpf_loop's context).  ips holds
 * UNWIND_MAX_FRAMES entries; nr of them are filled, leaf first, an exact
 * pc above the leaf marked UNWIND_PC_EXACT. */
struct unwind_walk {
	__u64 ip, sp, bp, bx;
	int bx_lost; /* a frame below left the caller's rbx where no rule finds it */
	__u32 nr;
	int lost; /* enum unwind_loss */
	/* Pending uretprobes: the trampoline their probes put in place of
	 * return addresses, and the task's return instances (newest
	 * first, a struct return_instance *), each holding the return
	 * address it replaced. */
	__u64 tramp;
	__u64 ri;
	int exact;    /* w->ip is an interrupted pc, not a return address */
	int unmapped; /* the first pc is in no mapping the tables know */
};

/* The walk's state lives in map memory, not on the stack: the verifier
 * knows nothing of what a map value holds, so every step starts from one
 * state and bpf_loop's callback is verified in a few passes (on the
 * stack, each step's flags and counts were exact and every combination a
 * state of its own: 393 k instructions processed per program in auto
 * mode, 0.4 s of verifier time each).  One per CPU: no walk interrupts
 * another on its CPU (sched_switch runs with interrupts off; the other
 * walking programs have no interrupt-time sibling in their object). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_walk);
} unwind_walks SEC(".maps");

/* bpf_loop's context: the walk and where its frames go. */
struct unwind_ctx {
	struct unwind_walk *w;
	__u64 *ips;
};

#define UNWIND_MAX_CHAINED 8 /* return instances sharing one stack slot */

/* w->ip is a uretprobe trampoline: the return address it replaced, from
 * the next pending return instance (as the kernel fixes its own
 * callchains).  A chained instance (a probed function entered with the
 * trampoline already as its return address) shares its slot with the
 * older one. */
static __always_inline void unwind_pending_return(struct unwind_walk *w)
{
	struct return_instance *ri = (struct return_instance *)w->ri;

	if (!ri)
		return;
	w->ip = BPF_CORE_READ(ri, orig_ret_vaddr);
	for (int i = 0; i < UNWIND_MAX_CHAINED && ri && BPF_CORE_READ(ri, chained); i++)
		ri = BPF_CORE_READ(ri, next);
	w->ri = ri ? (__u64)BPF_CORE_READ(ri, next) : 0;
}

#define UNWIND_WALK_END 1

/* The caller's registers by a frame-pointer step: 0 or UNWIND_WALK_END. */
static __always_inline int unwind_fp_step(struct unwind_walk *w, __u64 *ra)
{
	__u64 fp[2];

	if (!w->bp || w->bp < w->sp)
		return UNWIND_WALK_END; /* the outermost frame, or no frame pointer */
	if (bpf_probe_read_user(fp, sizeof(fp), (void *)w->bp)) {
		w->lost = UNWIND_LOST_READ;
		return UNWIND_WALK_END;
	}
	*ra = fp[1];
	w->sp = w->bp + 16;
	w->bp = fp[0];
	return 0;
}

/* The caller's registers by a CFI row at pc: 0 or UNWIND_WALK_END. */
static __always_inline int unwind_cfi_step(struct unwind_walk *w, struct unwind_row *r, __u64 pc,
					   __u64 *ra)
{
	__u64 cfa = (r->cmd == UNWIND_CFA_RBP ? w->bp :
		     r->cmd == UNWIND_CFA_RBX ? w->bx :
						w->sp) +
		    (__s64)r->cfa_off;

	if (r->cmd == UNWIND_PLT && (pc & 15) >= r->arg)
		cfa += 8;
	if (r->cmd == UNWIND_CFA_RBX && w->bx_lost) {
		w->lost = UNWIND_LOST_NO_INFO;
		return UNWIND_WALK_END;
	}

	if (bpf_probe_read_user(ra, sizeof(*ra), (void *)(cfa - 8))) {
		w->lost = UNWIND_LOST_READ;
		return UNWIND_WALK_END;
	}
	if (r->rbp_off && bpf_probe_read_user(&w->bp, sizeof(w->bp), (void *)(cfa + r->rbp_off))) {
		w->lost = UNWIND_LOST_READ;
		return UNWIND_WALK_END;
	}
	if (r->rbx_off == UNWIND_RBX_LOST) {
		w->bx_lost = 1;
	} else if (r->rbx_off &&
		   bpf_probe_read_user(&w->bx, sizeof(w->bx), (void *)(cfa + r->rbx_off))) {
		w->lost = UNWIND_LOST_READ;
		return UNWIND_WALK_END;
	}
	w->sp = cfa;
	return 0;
}

/* The interrupted registers of a signal frame, from the ucontext at
 * w->sp: 0 or UNWIND_WALK_END. */
static __always_inline int unwind_signal_step(struct unwind_walk *w, __u64 *ra)
{
	__u64 g[(UNWIND_UC_RIP - UNWIND_UC_RBP) / 8 + 1];

	if (bpf_probe_read_user(g, sizeof(g), (void *)(w->sp + UNWIND_UC_RBP))) {
		w->lost = UNWIND_LOST_READ;
		return UNWIND_WALK_END;
	}
	w->bp = g[0];
	w->bx = g[(UNWIND_UC_RBX - UNWIND_UC_RBP) / 8];
	w->bx_lost = 0;
	w->sp = g[(UNWIND_UC_RSP - UNWIND_UC_RBP) / 8];
	*ra = g[(UNWIND_UC_RIP - UNWIND_UC_RBP) / 8];
	return 0;
}

/* One frame: records w->ip, then finds its caller.  bpf_loop callback:
 * 1 ends the walk. */
static long unwind_step(__u32 i, void *ctx)
{
	struct unwind_ctx *c = ctx;
	struct unwind_walk *w = c->w;
	struct unwind_mapping *m;
	struct unwind_row *r = NULL;
	__u32 n = w->nr;
	__u64 ra = 0, pc;
	int cmd = UNWIND_NONE, end;

	if (n >= UNWIND_MAX_FRAMES)
		return UNWIND_WALK_END;
	if (i && w->tramp && w->ip == w->tramp)
		unwind_pending_return(w);
	c->ips[n] = w->ip;
	w->nr = n + 1;
	/* A return address is after its call: the call is at ip - 1 (not
	 * after a signal frame: the interrupted pc is exact, and marked so
	 * for the symbolizer). */
	pc = i && !w->exact ? w->ip - 1 : w->ip;
	if (i && w->exact)
		c->ips[n] |= UNWIND_PC_EXACT;
	w->exact = 0;
	m = unwind_mapping_of(pc);
	if (!i && !m)
		w->unmapped = 1;
	if (m && m->file == UNWIND_TOO_LARGE)
		w->lost = UNWIND_LOST_TOO_LARGE;
	else if (m && m->file != UNWIND_NO_FILE)
		r = unwind_row_of(m->file, pc - m->bias);
	if (r)
		cmd = r->cmd;
	if (cmd == UNWIND_STOP)
		return UNWIND_WALK_END;
	if (r && (cmd == UNWIND_CFA_RSP || cmd == UNWIND_CFA_RBP || cmd == UNWIND_CFA_RBX ||
		  cmd == UNWIND_PLT)) {
		end = unwind_cfi_step(w, r, pc, &ra);
	} else if (cmd == UNWIND_SIGNAL) {
		/* The handler returns to the trampoline's first instruction:
		 * no call before it (its row was found at pc - 1 all the
		 * same: the FDE covers the byte before, for such lookups). */
		if (i)
			c->ips[n] |= UNWIND_PC_EXACT;
		end = unwind_signal_step(w, &ra);
		w->exact = 1;
	} else if (cmd == UNWIND_NONE && unwind_mode == UNWIND_MODE_DWARF) {
		if (w->lost != UNWIND_LOST_TOO_LARGE)
			w->lost = UNWIND_LOST_NO_INFO;
		return UNWIND_WALK_END;
	} else {
		end = unwind_fp_step(w, &ra);
	}
	if (end || !ra)
		return UNWIND_WALK_END;
	w->ip = ra;
	return 0;
}

/* The registers a walk starts from. */
struct unwind_regs {
	__u64 ip, sp, bp, bx;
};

/* Those of saved user registers regs (kernel memory: a task's pt_regs). */
static __always_inline void unwind_regs_read(struct pt_regs *regs, struct unwind_regs *r)
{
	r->ip = BPF_CORE_READ(regs, ip);
	r->sp = BPF_CORE_READ(regs, sp);
	r->bp = BPF_CORE_READ(regs, bp);
	r->bx = BPF_CORE_READ(regs, bx);
}

/* The user registers of the current task, saved at its entry to the
 * kernel (a sample's, a switch-out's, a uprobe's: its trap's). */
static __always_inline void unwind_task_regs(struct unwind_regs *r)
{
	struct task_struct *task = bpf_get_current_task_btf();

	unwind_regs_read((struct pt_regs *)bpf_task_pt_regs(task), r);
}

/* Walks the user stack from regs into ips (UNWIND_MAX_FRAMES entries):
 * the frames found, *lost the loss that cut the walk (UNWIND_LOST_NONE:
 * none).  An ip of 0 gives no frame. */
static __always_inline __u32 unwind_walk_from(const struct unwind_regs *regs, __u64 *ips, int *lost,
					      int *unmapped)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 zero = 0;
	struct unwind_walk *w = bpf_map_lookup_elem(&unwind_walks, &zero);
	struct unwind_ctx c = { w, ips };

	*lost = UNWIND_LOST_NONE;
	*unmapped = 0;
	if (!w)
		return 0;
	*w = (struct unwind_walk){
		.ip = regs->ip,
		.sp = regs->sp,
		.bp = regs->bp,
		.bx = regs->bx,
		.lost = UNWIND_LOST_NONE,
	};
	w->ri = (__u64)BPF_CORE_READ(task, utask, return_instances);
	if (w->ri)
		w->tramp = BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr);
	if (regs->ip)
		bpf_loop(UNWIND_MAX_FRAMES, unwind_step, &c, 0);
	*lost = w->lost;
	*unmapped = w->unmapped;
	return w->nr;
}

/* As unwind_walk_from, without telling whether the first pc was in a
 * mapping the tables know. */
static __always_inline __u32 unwind_walk(const struct unwind_regs *regs, __u64 *ips, int *lost)
{
	int unmapped;

	return unwind_walk_from(regs, ips, lost, &unmapped);
}

/* Where unwind_walk_kept walks a stack before the first frames a
 * collector keeps are copied out (too big for the BPF stack). */
struct unwind_frames {
	__u64 ips[UNWIND_MAX_FRAMES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_frames);
} unwind_scratch SEC(".maps");

/* Walks from regs and keeps the first depth frames (depth <=
 * UNWIND_MAX_FRAMES) in dst: their number; 0 when nothing was walked, or
 * when in auto mode the first pc is in a mapping the tables do not know
 * yet (a launched command before its first refresh, a library just
 * loaded: the caller takes its frame-pointer stack instead).  *lost: the
 * loss that cut the walk. */
static __always_inline __u32 unwind_walk_kept(const struct unwind_regs *regs, __u64 *dst,
					      __u32 depth, int *lost)
{
	__u32 zero = 0, n;
	struct unwind_frames *w = bpf_map_lookup_elem(&unwind_scratch, &zero);
	int unmapped;

	*lost = UNWIND_LOST_NONE;
	if (!w)
		return 0;
	n = unwind_walk_from(regs, w->ips, lost, &unmapped);
	if (unmapped && unwind_mode == UNWIND_MODE_AUTO)
		return 0;
	if (n > depth)
		n = depth;
	for (__u32 i = 0; i < UNWIND_MAX_FRAMES; i++) {
		if (i >= n)
			break;
		dst[i] = w->ips[i];
	}
	return n;
}

#endif
