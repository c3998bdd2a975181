/* Probe layer, shared by BPF and user space: the bpf cookie of a probe
 * placed by user/probe/uprobe_set.c (generation << 32 | probe id) and the
 * filter that makes a hit count once while links of two generations
 * coexist.  Compiles under vmlinux.h (BPF) and under libc (user). */
#ifndef EBPROF_UPROBE_GEN_H
#define EBPROF_UPROBE_GEN_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bpf cookie of probe id in links of generation gen. */
static inline __u64 uprobe_cookie(__u32 gen, __u32 id)
{
	return (__u64)gen << 32 | id;
}

/* Which link's hit counts while links of two generations coexist.  The
 * governor (uprobe_multi) detaches probes by creating links of
 * generation + 1 for the remaining ones, switching the current generation,
 * then destroying the old links; meanwhile one call runs both links'
 * programs, newest link first (the kernel adds consumers at the head of a
 * uprobe's list).  The current generation's hit counts.  If the switch
 * falls between the two programs, the newer one saw the old generation
 * and the older one sees the new: the newer one leaves a mark for this
 * very hit (thread, stack pointer, probe, entry or return) and the
 * older one takes the hit in its place, so it counts once.  m is per CPU,
 * updated by every hit. */
struct uprobe_hit_mark {
	__u64 sp;
	__u32 tid, fid, kind, deferred;
};

/* 1 when the hit of a probe with cookie (generation << 32 | probe id)
 * counts, cur being the current generation. */
static inline int uprobe_gen_accept(struct uprobe_hit_mark *m, __u64 cookie, __u32 cur, __u32 tid,
				    __u32 kind, __u64 sp)
{
	__u32 gen = (__u32)(cookie >> 32), fid = (__u32)cookie;
	int twin = m->deferred && m->tid == tid && m->fid == fid && m->kind == kind && m->sp == sp;

	m->deferred = 0;
	if (gen == cur)
		return 1;
	if (gen == cur + 1) {
		m->sp = sp;
		m->tid = tid;
		m->fid = fid;
		m->kind = kind;
		m->deferred = 1;
		return 0;
	}
	return gen + 1 == cur && twin;
}

#endif
