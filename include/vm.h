/* The vm collector (the light layer of the memory report): structs,
 * limits and loss counters shared by bpf/vm.bpf.c and user/collect/vm.c.
 * Compiles under vmlinux.h (BPF) and under libc (user). */
#ifndef EBPROF_VM_H
#define EBPROF_VM_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VM_MAX_SITES 16384  /* distinct user stacks that mapped or touched memory */
#define VM_MAX_THREADS 4096 /* threads inside a mapping syscall at one time */
#define VM_STACK_DEPTH 64

/* x86_64 syscall numbers of the calls that change the address space. */
#define VM_NR_MMAP 9
#define VM_NR_MUNMAP 11
#define VM_NR_BRK 12
#define VM_NR_MREMAP 25
#define VM_MAP_ANONYMOUS 0x20
#define VM_PF_PRESENT 0x1 /* x86 page fault error code: the page was present */

/* One user stack, leaf first. */
struct vml_stack {
	__u32 n;
	__u32 pad;
	__u64 ips[VM_STACK_DEPTH];
};

/* What one stack did (hash: stack hash -> this). */
struct vml_site {
	__u64 faults;	      /* user page faults on a page not present: first touches */
	__u64 mapped_bytes;   /* anonymous mmap, brk growth, mremap growth */
	__u64 unmapped_bytes; /* munmap, brk shrink, mremap shrink */
	__u64 map_calls;      /* brk, mmap, munmap, mremap calls that changed a size */
};

/* A mapping syscall between entry and exit (hash: tid -> this). */
struct vml_call {
	__u64 site;
	__u64 nr;
	__u64 len, len2; /* mmap/munmap: length; mremap: old, new length */
	__u64 flags;	 /* mmap flags */
	__u64 old_brk;	 /* brk: the break before the call */
};

/* Whole-run totals (a .bss global of the BPF object). */
struct vml_totals {
	__u64 faults, mapped_bytes, unmapped_bytes, map_calls;
};

/* Loss counters (.bss stats[], indexes VM_STAT_<NAME>).
 *   X(NAME, info key, info label) */
#define VM_LOSSES(X)                                                                    \
	/* an event not booked by stack: site map full */                               \
	X(SITES_FULL, "lost_sites_full", "events not booked by stack (site map full)")  \
	/* a user stack that could not be read: booked to the empty stack */            \
	X(STACK, "lost_stacks", "events without a user stack (stack not readable)")     \
	/* a mapping syscall whose exit was not paired with its entry: call map full */ \
	X(CALLS_FULL, "lost_calls_full", "mapping syscalls not booked (call map full)") \
	/* user stacks the unwind tables cut short: a read of the stack failed; \
	 * a pc with no unwind info (--unwind dwarf) */       \
	X(USTACK_READ, "lost_user_stack_read", "stacks cut (user stack read failed)")   \
	X(NO_UNWIND_INFO, "lost_no_unwind_info", "stacks cut (user pc without unwind info)")

#define VM_STAT_ENUM(name, key, label) VM_STAT_##name,
enum vm_stat {
	VM_LOSSES(VM_STAT_ENUM) VM_STAT_MAX,
};
#undef VM_STAT_ENUM

#endif
