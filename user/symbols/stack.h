/* Stacks of addresses -> profile frames, root first.  One converter for
 * every collector: stack ids from a BPF stack map (bpf_get_stackid), raw
 * address arrays (what an unwinder delivers), and the kernel stack of a
 * sleeping thread from /proc.  The rules live here once: ip-1 for every
 * frame but the leaf and the exact pcs the walker marks (UNWIND_PC_EXACT),
 * ebprof's own BPF/tracing frames cut from the leaf of kernel stacks,
 * "[truncated]" and "[no user stack]" markers. */
#ifndef EBPROF_STACK_H
#define EBPROF_STACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "unwind.h"
#include "model/profile.h"
#include "symbols/symbolize.h"
#include "util/util.h"

/* The address to symbolize frame i of a user stack (leaf first) at: the
 * leaf and a frame marked UNWIND_PC_EXACT (an interrupted pc under a
 * signal frame, the signal trampoline's entry) as they are, without the
 * mark; a return address at ip-1, inside its call. */
static inline uint64_t stack_user_pc(const uint64_t *ips, size_t i)
{
	if (ips[i] & UNWIND_PC_EXACT)
		return ips[i] & ~UNWIND_PC_EXACT;
	return i ? ips[i] - 1 : ips[i];
}

struct stack_conv {
	struct profile *p;
	struct symbolizer *sym;
	int map_fd;	    /* BPF_MAP_TYPE_STACK_TRACE for stack_from_id, or -1 */
	size_t depth;	    /* addresses a captured stack can hold */
	uint64_t truncated; /* stacks that filled depth, marked "[truncated]" */
	uint64_t bad_walks; /* user stacks cut at a return address in no mapping */
	uint64_t *ips;	    /* scratch for one stack map value */
};

/* Frames go into p, symbolized with sym; depth is the capture's limit (the
 * stack map's value size / 8).  0 or -ENOMEM. */
int stack_conv_init(struct stack_conv *c, struct profile *p, struct symbolizer *sym, int map_fd,
		    size_t depth);
void stack_conv_free(struct stack_conv *c);

/* Appends n addresses given leaf first (ips[0] is where the thread was)
 * to st, root first.  kernel: kernel addresses, else user (a frame above
 * the leaf may carry UNWIND_PC_EXACT: stack_user_pc).  n == depth
 * adds "[truncated]" at the root; an empty user stack is "[no user
 * stack]".  A user stack ends below the first return address outside
 * every executable mapping (a frame-pointer walk through a frame without
 * one reads garbage): that frame and the rest are dropped, the stack counted in
 * c->bad_walks.  Errors are left in st->err. */
void stack_from_ips(struct stack_conv *c, struct stackbuf *st, int kernel, const uint64_t *ips,
		    size_t n);
/* The same for a stack id of c->map_fd; a negative id (not captured) is
 * "[no user stack]" for a user stack and nothing for a kernel one. */
void stack_from_id(struct stack_conv *c, struct stackbuf *st, int kernel, int stack_id);
/* Kernel frames of a sleeping thread from /proc/PID/task/TID/stack (root
 * only; nothing when unreadable). */
void stack_from_proc(struct stack_conv *c, struct stackbuf *st, pid_t pid, pid_t tid);

#endif
