/* Probe layer, BPF side: the generation filter of include/uprobe_gen.h
 * with its state, for a .bpf.c whose probes user/probe/uprobe_set.c
 * places.  Include once per BPF object, after vmlinux.h and the libbpf
 * headers; user space finds the current generation at skel->bss->generation
 * (uprobe_set_opts.generation). */
#ifndef EBPROF_UPROBE_GEN_BPF_H
#define EBPROF_UPROBE_GEN_BPF_H

#include "uprobe_gen.h"

/* The generation of the links whose hits count.  With uprobe_multi links
 * the governor detaches probes by creating links of generation + 1 for
 * the rest, switching this, then destroying the old links: for a moment
 * every remaining probe has two links, and exactly one of them counts. */
__u32 generation;

/* The last hit on this CPU (uprobe_gen_accept()). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct uprobe_hit_mark);
} last_hit SEC(".maps");

/* Does this hit count?  kind tells entry (0) from return (1) probes. */
static __always_inline int uprobe_gen_hit(struct pt_regs *ctx, __u64 cookie, __u32 kind)
{
	__u32 zero = 0;
	struct uprobe_hit_mark *m = bpf_map_lookup_elem(&last_hit, &zero);

	if (!m)
		return (__u32)(cookie >> 32) == generation;
	return uprobe_gen_accept(m, cookie, generation, (__u32)bpf_get_current_pid_tgid(), kind,
				 PT_REGS_SP(ctx));
}

#endif
