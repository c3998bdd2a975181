// SPDX-License-Identifier: GPL-2.0
/* The light layer of the memory report: the target's address-space growth
 * by user stack, from raw tracepoints only (no uprobes, no tracefs).
 * sys_enter/sys_exit book brk, anonymous mmap, munmap and mremap sizes;
 * page_fault_user counts faults on pages not present (first touches) per
 * stack.  Its cost follows how often the address space changes and how many
 * new pages are touched, not how often malloc is called.  Every program
 * filters by the target's tgid first. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vm.h"
#include "unwind.h"
#include "unwind.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_tgid = 0;

/* Set at stop: nothing more is booked, so the report is one snapshot. */
__u32 stopped;
__u64 stats[VM_STAT_MAX] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VM_MAX_SITES);
	__type(key, __u64);
	__type(value, struct vml_site);
} sites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VM_MAX_SITES);
	__type(key, __u64);
	__type(value, struct vml_stack);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VM_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct vml_call);
} calls SEC(".maps");

/* Whole-run totals, in .bss: ebprof reads them each tick from the mapped
 * page, without a syscall. */
struct vml_totals totals = {};

/* Scratch for one stack (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vml_stack);
} scratch SEC(".maps");

static __always_inline void lost(__u32 i)
{
	if (i < VM_STAT_MAX)
		__sync_fetch_and_add(&stats[i], 1);
}

/* The target's tid, or 0 when the current task is not the target's. */
static __always_inline __u32 target_tid(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	if ((__u32)(id >> 32) != targ_tgid || stopped)
		return 0;
	return (__u32)id;
}

/* The user stack from the registers the task entered the kernel with,
 * walked by the unwind tables (the caller of a libc syscall wrapper, or of
 * memset, is found without frame pointers): its frame count, 0 when the
 * first pc is in a mapping the tables do not know yet (a launched command
 * before its first refresh) in auto mode, or nothing was walked. */
static __always_inline __u32 walked_stack(struct pt_regs *uregs, struct vml_stack *s)
{
	struct unwind_regs regs;
	int cut;
	__u32 n;

	unwind_regs_read(uregs, &regs);
	n = unwind_walk_kept(&regs, s->ips, VM_STACK_DEPTH, &cut);

	if (cut == UNWIND_LOST_READ)
		lost(VM_STAT_USTACK_READ);
	else if (cut == UNWIND_LOST_NO_INFO)
		lost(VM_STAT_NO_UNWIND_INFO);
	return n;
}

/* The user stack of the current task as a site id (never 0), interned in
 * stacks; 1 when it cannot be read (counted).  The one place that takes a
 * stack: the unwind tables, else (--unwind fp, or a mapping not known yet)
 * frame pointers through bpf_get_stack.  in_wrapper: the user pc is in a
 * syscall wrapper that keeps no frame, so its return address at [sp] is
 * the caller, which a frame-pointer walk skips. */
static __always_inline __u64 take_stack(void *ctx, struct pt_regs *uregs, int in_wrapper)
{
	__u32 zero = 0;
	struct vml_stack *s = bpf_map_lookup_elem(&scratch, &zero);
	__u64 ra = 0, h = 14695981039346656037ull;
	long got;
	__u32 n;

	if (!s)
		return 1;
	n = unwind_mode == UNWIND_MODE_FP ? 0 : walked_stack(uregs, s);
	if (n)
		goto intern;
	got = bpf_get_stack(ctx, s->ips, sizeof(s->ips), BPF_F_USER_STACK);
	if (got <= 0) {
		lost(VM_STAT_STACK);
		return 1;
	}
	n = (__u32)got / 8;
	if (in_wrapper &&
	    bpf_probe_read_user(&ra, sizeof(ra), (void *)BPF_CORE_READ(uregs, sp)) == 0 && ra &&
	    (n < 2 || s->ips[1] != ra)) {
		if (n >= VM_STACK_DEPTH)
			n = VM_STACK_DEPTH - 1;
		for (__u32 i = VM_STACK_DEPTH - 1; i > 1; i--)
			if (i <= n)
				s->ips[i] = s->ips[i - 1];
		s->ips[1] = ra;
		n++;
	}
	if (n > VM_STACK_DEPTH)
		n = VM_STACK_DEPTH;
intern:
	s->n = n;
	for (__u32 i = 0; i < VM_STACK_DEPTH; i++) {
		if (i >= n)
			break;
		h = (h ^ s->ips[i]) * 1099511628211ull;
	}
	if (h < 2)
		h = 2;
	bpf_map_update_elem(&stacks, &h, s, BPF_NOEXIST);
	return h;
}

static __always_inline struct vml_site *get_site(__u64 id)
{
	struct vml_site *v = bpf_map_lookup_elem(&sites, &id), zero = {};

	if (v)
		return v;
	bpf_map_update_elem(&sites, &id, &zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&sites, &id);
	if (!v)
		lost(VM_STAT_SITES_FULL);
	return v;
}

/* Books a size change of the address space to a site. */
static __always_inline void book(__u64 site, __u64 grew, __u64 shrank)
{
	struct vml_site *v = get_site(site);

	__sync_fetch_and_add(&totals.mapped_bytes, grew);
	__sync_fetch_and_add(&totals.unmapped_bytes, shrank);
	__sync_fetch_and_add(&totals.map_calls, 1);
	if (!v)
		return;
	__sync_fetch_and_add(&v->mapped_bytes, grew);
	__sync_fetch_and_add(&v->unmapped_bytes, shrank);
	__sync_fetch_and_add(&v->map_calls, 1);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(vm_sys_enter, struct pt_regs *regs, long nr)
{
	struct vml_call c = {};
	__u32 tid = target_tid();

	if (!tid)
		return 0;
	if (nr != VM_NR_MMAP && nr != VM_NR_MUNMAP && nr != VM_NR_BRK && nr != VM_NR_MREMAP)
		return 0;
	c.nr = (__u64)nr;
	if (nr == VM_NR_MMAP) {
		c.len = BPF_CORE_READ(regs, si);
		c.flags = BPF_CORE_READ(regs, r10);
		if (!(c.flags & VM_MAP_ANONYMOUS))
			return 0; /* file mappings are not heap growth */
	} else if (nr == VM_NR_MUNMAP) {
		c.len = BPF_CORE_READ(regs, si);
	} else if (nr == VM_NR_MREMAP) {
		c.len = BPF_CORE_READ(regs, si);
		c.len2 = BPF_CORE_READ(regs, dx);
	} else {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();

		c.old_brk = BPF_CORE_READ(task, mm, brk);
	}
	c.site = take_stack(ctx, regs, 1);
	if (bpf_map_update_elem(&calls, &tid, &c, BPF_ANY))
		lost(VM_STAT_CALLS_FULL);
	return 0;
}

static __always_inline __u64 page_up(__u64 n)
{
	return (n + 4095) & ~4095ull;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(vm_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tid = target_tid();
	struct vml_call *c;
	__u64 grew = 0, shrank = 0;

	if (!tid)
		return 0;
	c = bpf_map_lookup_elem(&calls, &tid);
	if (!c)
		return 0;
	if (c->nr == VM_NR_BRK) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
		__u64 now = BPF_CORE_READ(task, mm, brk);

		if (now > c->old_brk)
			grew = page_up(now) - page_up(c->old_brk);
		else
			shrank = page_up(c->old_brk) - page_up(now);
	} else if (ret < 0 && ret > -4096) {
		/* failed: nothing changed */
	} else if (c->nr == VM_NR_MMAP) {
		grew = page_up(c->len);
	} else if (c->nr == VM_NR_MUNMAP) {
		shrank = page_up(c->len);
	} else if (page_up(c->len2) > page_up(c->len)) {
		grew = page_up(c->len2) - page_up(c->len);
	} else {
		shrank = page_up(c->len) - page_up(c->len2);
	}
	if (grew || shrank)
		book(c->site, grew, shrank);
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

/* A user page fault on a page not present: the first touch of new memory
 * (or the read back of a swapped or evicted page, which the major fault
 * count shows). */
SEC("raw_tp/page_fault_user")
int BPF_PROG(vm_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct vml_site *v;

	if (!target_tid() || (error_code & VM_PF_PRESENT))
		return 0;
	__sync_fetch_and_add(&totals.faults, 1);
	v = get_site(take_stack(ctx, regs, 0));
	if (v)
		__sync_fetch_and_add(&v->faults, 1);
	return 0;
}
