// SPDX-License-Identifier: GPL-2.0
/* Exact memory profile: uprobes on the allocator functions the target
 * binds to.  An allocation function's entry probe records its arguments
 * and the user stack (its site) per thread; its return probe reads the
 * block's address and books it: per-site counters, the block itself
 * (address -> size, site, time) until free() sees it again.  Cookies:
 * generation << 32 | probe index << 8 | enum mem_fn (uprobe_gen.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "mem.h"
#include "uprobe_gen.bpf.h"
#include "unwind.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Only the target's calls are booked (calibration runs the same code in
 * ebprof itself). */
const volatile __u32 targ_tgid = 0;

/* Set by user space before the governor detaches probe i. */
__u8 detached[256];
/* Set at stop: nothing more is booked, so the report is one snapshot. */
__u32 stopped;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEM_MAX_SITES);
	__type(key, __u64);
	__type(value, struct mem_site);
} sites SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEM_MAX_SITES);
	__type(key, __u64);
	__type(value, struct mem_stack);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEM_MAX_BLOCKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct mem_block);
} blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEM_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct mem_call);
} calls SEC(".maps");

/* The block an operator delete of each thread booked: the delete or
 * free() it calls with the same pointer is the same release. */
struct mem_deleting {
	__u64 ptr;
	__u64 set;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MEM_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct mem_deleting);
} deleting SEC(".maps");

/* The last block each thread allocated (heaptrack's temporaries). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MEM_MAX_THREADS);
	__type(key, __u32);
	__type(value, __u64);
} last_alloc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mem_totals);
} totals SEC(".maps");

/* Scratch for one stack (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mem_stack);
} scratch SEC(".maps");

/* Per probe index (max_entries set by user space: probes + 1). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mem_fstats);
} fstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MEM_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		*c += 1;
}

/* The stack at an allocator's entry by the unwind tables: at the
 * function's first instruction its CFI says CFA = rsp + 8, so frame 1 is
 * its caller.  The frame count, 0 when none. */
static __always_inline __u32 walked_stack(struct pt_regs *ctx, struct mem_stack *s)
{
	struct unwind_regs regs = { PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx), ctx->bx };
	int lost;
	__u32 n = unwind_walk_kept(&regs, s->ips, MEM_STACK_DEPTH, &lost);

	/* The calibration walks ebprof's own stack, which has no tables. */
	if ((bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		lost = UNWIND_LOST_NONE;
	if (lost == UNWIND_LOST_READ)
		count(MEM_CNT_STACK_READ);
	else if (lost == UNWIND_LOST_NO_INFO)
		count(MEM_CNT_NO_UNWIND_INFO);
	else if (lost == UNWIND_LOST_TOO_LARGE)
		count(MEM_CNT_TABLE_TOO_LARGE);
	return n;
}

/* --unwind fp: bpf_get_stack's frame-pointer walk, with the return
 * address at [rsp] as frame 1 unless the walk put it there (a
 * frame-pointer walk from a function's entry skips its caller). */
static __always_inline __u32 fp_stack(struct pt_regs *ctx, struct mem_stack *s)
{
	__u64 ra = 0;
	long got;
	__u32 n;

	got = bpf_get_stack(ctx, s->ips, sizeof(s->ips), BPF_F_USER_STACK);
	if (got <= 0)
		return 0;
	n = (__u32)got / 8;
	if (bpf_probe_read_user(&ra, sizeof(ra), (void *)PT_REGS_SP(ctx)) == 0 && ra &&
	    (n < 2 || s->ips[1] != ra)) {
		if (n >= MEM_STACK_DEPTH)
			n = MEM_STACK_DEPTH - 1;
		for (__u32 i = MEM_STACK_DEPTH - 1; i > 1; i--)
			if (i <= n)
				s->ips[i] = s->ips[i - 1];
		s->ips[1] = ra;
		n++;
	}
	return n;
}

/* The caller's stack as a site id (0: none), stored in stacks. */
static __always_inline __u64 take_site(struct pt_regs *ctx)
{
	__u32 zero = 0;
	struct mem_stack *s = bpf_map_lookup_elem(&scratch, &zero);
	__u64 h = 14695981039346656037ull;
	__u32 n;

	if (!s)
		return 0;
	n = unwind_mode == UNWIND_MODE_FP ? 0 : walked_stack(ctx, s);
	if (!n && unwind_mode != UNWIND_MODE_DWARF)
		n = fp_stack(ctx, s);
	if (!n) {
		count(MEM_CNT_STACK);
		return 0;
	}
	if (n > MEM_STACK_DEPTH)
		n = MEM_STACK_DEPTH;
	s->n = n;
	for (__u32 i = 0; i < MEM_STACK_DEPTH; i++) {
		if (i >= n)
			break;
		h = (h ^ s->ips[i]) * 1099511628211ull;
	}
	if (!h)
		h = 1;
	bpf_map_update_elem(&stacks, &h, s, BPF_NOEXIST);
	return h;
}

static __always_inline struct mem_totals *get_totals(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&totals, &zero);
}

static __always_inline struct mem_site *get_site(__u64 id)
{
	struct mem_site *s = bpf_map_lookup_elem(&sites, &id), zero = {};

	if (s)
		return s;
	bpf_map_update_elem(&sites, &id, &zero, BPF_NOEXIST);
	s = bpf_map_lookup_elem(&sites, &id);
	if (!s)
		count(MEM_CNT_SITES_FULL);
	return s;
}

/* Before a site's outstanding bytes change: if the total peaked since its
 * last change, its bytes then were what they are now. */
static __always_inline void sync_peak(struct mem_site *s, struct mem_totals *t)
{
	if (s->peak_seq != t->peak_seq) {
		s->peak_bytes = s->cur_bytes;
		s->peak_seq = t->peak_seq;
	}
}

static __always_inline void book_free(__u64 ptr, __u32 tid, int temp_check)
{
	struct mem_totals *t = get_totals();
	struct mem_block *b;
	struct mem_site *s;
	__u64 *last;

	if (!t)
		return;
	if (!ptr) {
		__sync_fetch_and_add(&t->null_frees, 1);
		return;
	}
	b = bpf_map_lookup_elem(&blocks, &ptr);
	if (!b) {
		__sync_fetch_and_add(&t->unknown_frees, 1);
		return;
	}
	s = bpf_map_lookup_elem(&sites, &b->site);
	if (s) {
		sync_peak(s, t);
		__sync_fetch_and_add(&s->frees, 1);
		__sync_fetch_and_add(&s->freed_bytes, b->size);
		__sync_fetch_and_add(&s->cur_bytes, -(__s64)b->size);
		__sync_fetch_and_add(&s->cur_count, -1);
		last = bpf_map_lookup_elem(&last_alloc, &tid);
		if (temp_check && last && *last == ptr) {
			__sync_fetch_and_add(&s->temps, 1);
			*last = 0;
		}
	}
	__sync_fetch_and_add(&t->cur_bytes, -(__s64)b->size);
	bpf_map_delete_elem(&blocks, &ptr);
}

static __always_inline void book_alloc(__u64 ptr, __u64 size, __u64 site, __u32 tid)
{
	struct mem_block b = { .size = size, .site = site, .ts = bpf_ktime_get_ns() };
	struct mem_totals *t = get_totals();
	struct mem_site *s = get_site(site);
	__u32 hb = mem_hist_bucket(size);
	struct mem_deleting *del;
	__s64 cur;

	if (!s || !t)
		return;
	__sync_fetch_and_add(&s->allocs, 1);
	__sync_fetch_and_add(&s->bytes, size);
	if (hb < MEM_HIST_BUCKETS)
		__sync_fetch_and_add(&s->hist[hb], 1);
	bpf_map_update_elem(&last_alloc, &tid, &ptr, BPF_ANY);
	/* A delete that did not end in free() (an operator delete of the
	 * target's own) leaves its mark: a new block there is not it. */
	del = bpf_map_lookup_elem(&deleting, &tid);
	if (del && del->set && del->ptr == ptr)
		del->set = 0;
	if (bpf_map_update_elem(&blocks, &ptr, &b, BPF_ANY) != 0) {
		__sync_fetch_and_add(&s->untracked, 1);
		count(MEM_CNT_BLOCKS_FULL);
		return;
	}
	sync_peak(s, t);
	__sync_fetch_and_add(&s->cur_bytes, size);
	__sync_fetch_and_add(&s->cur_count, 1);
	cur = __sync_fetch_and_add(&t->cur_bytes, size) + (__s64)size;
	if (cur > t->peak_bytes) {
		t->peak_bytes = cur;
		t->peak_ts = b.ts;
		t->peak_seq++;
		s->peak_bytes = s->cur_bytes;
		s->peak_seq = t->peak_seq;
	}
}

/* nmemb * size, or ~0 (no allocator gives that) when it overflows. */
static __always_inline __u64 mul_checked(__u64 nmemb, __u64 size)
{
	__u64 lim;

	if (!nmemb)
		return 0;
	lim = ~0ull / nmemb;
	/* Kept a division: clang would turn the test into a 128-bit multiply. */
	barrier_var(lim);
	if (size > lim)
		return ~0ull;
	return nmemb * size;
}

SEC("uprobe")
int BPF_KPROBE(mem_entry)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 fn = (__u32)cookie & 0xff, idx = ((__u32)cookie >> 8) & 0xff;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct mem_call c = { .fn = fn, .probe = idx }, *cur;
	struct mem_fstats *fs;

	if (!uprobe_gen_hit(ctx, cookie, 0) || detached[idx & 0xff] || stopped)
		return 0;
	fs = bpf_map_lookup_elem(&fstats, &idx);
	if (fs)
		fs->entries++;
	cur = bpf_map_lookup_elem(&calls, &tid);
	/* Inside another allocator call (reallocarray calling realloc, an
	 * allocator's own free): that call books it.  A record whose probe
	 * was detached meanwhile will never see its return. */
	if (cur && !detached[cur->probe & 0xff]) {
		cur->depth++;
		return 0;
	}
	if (cur)
		bpf_map_delete_elem(&calls, &tid);
	switch (fn) {
	case MEM_FN_MALLOC:
	case MEM_FN_VALLOC:
	case MEM_FN_PVALLOC: c.size = PT_REGS_PARM1(ctx); break;
	case MEM_FN_CALLOC: c.size = mul_checked(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx)); break;
	case MEM_FN_REALLOC:
		c.old = PT_REGS_PARM1(ctx);
		c.size = PT_REGS_PARM2(ctx);
		break;
	case MEM_FN_REALLOCARRAY:
		c.old = PT_REGS_PARM1(ctx);
		c.size = mul_checked(PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx));
		break;
	case MEM_FN_POSIX_MEMALIGN:
		c.out = PT_REGS_PARM1(ctx);
		c.size = PT_REGS_PARM3(ctx);
		break;
	case MEM_FN_ALIGNED_ALLOC:
	case MEM_FN_MEMALIGN: c.size = PT_REGS_PARM2(ctx); break;
	case MEM_FN_NEW:
	case MEM_FN_NEW_ARRAY:
	case MEM_FN_NEW_NOTHROW:
	case MEM_FN_NEW_ARRAY_NOTHROW:
	case MEM_FN_NEW_ALIGNED:
	case MEM_FN_NEW_ARRAY_ALIGNED:
	case MEM_FN_NEW_ALIGNED_NOTHROW:
	case MEM_FN_NEW_ARRAY_ALIGNED_NOTHROW: c.size = PT_REGS_PARM1(ctx); break;
	default: return 0;
	}
	c.site = take_site(ctx);
	if (bpf_map_update_elem(&calls, &tid, &c, BPF_ANY) != 0)
		count(MEM_CNT_THREADS_FULL);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(mem_return)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u64 id = bpf_get_current_pid_tgid(), ptr = PT_REGS_RC(ctx);
	__u32 tid = (__u32)id;
	struct mem_call *c, call;
	struct mem_site *s;

	if (!uprobe_gen_hit(ctx, cookie, 1))
		return 0;
	if (stopped)
		return 0;
	c = bpf_map_lookup_elem(&calls, &tid);
	if (!c) {
		/* Only the target's: ebprof's own calls of the calibration
		 * function meet a calibration return probe still coming off
		 * (its entry probe removed first) while it calibrates free(). */
		if ((id >> 32) == targ_tgid)
			count(MEM_CNT_NO_ENTRY);
		return 0;
	}
	if (c->depth) {
		c->depth--;
		return 0;
	}
	call = *c;
	bpf_map_delete_elem(&calls, &tid);
	if ((id >> 32) != targ_tgid)
		return 0;
	if (call.fn == MEM_FN_POSIX_MEMALIGN) {
		/* Returns 0 and stores the block at *memptr. */
		if ((int)ptr != 0) {
			ptr = 0;
		} else if (bpf_probe_read_user(&ptr, sizeof(ptr), (void *)call.out) != 0) {
			count(MEM_CNT_READ);
			return 0;
		}
	}
	if (call.fn == MEM_FN_REALLOC || call.fn == MEM_FN_REALLOCARRAY) {
		/* A failed realloc keeps the old block; realloc(p, 0)
		 * returning NULL freed it. */
		if (call.old && (ptr || call.size == 0))
			book_free(call.old, tid, 0);
		if (!ptr && call.size == 0 && call.old)
			return 0;
	}
	if (ptr) {
		book_alloc(ptr, call.size, call.site, tid);
		return 0;
	}
	s = get_site(call.site);
	if (s)
		__sync_fetch_and_add(&s->failed, 1);
	return 0;
}

/* free() and operator delete: their own probe set, entry only, so no
 * generation filter; its governor detaches it only after the allocation
 * functions are gone (until then frees of the blocks seen stay booked).
 * A free inside an allocator call (realloc's) is that call's business;
 * the free() (or delete) an operator delete calls with its pointer is
 * the delete's. */
SEC("uprobe")
int BPF_KPROBE(mem_free, void *ptr)
{
	__u64 id = bpf_get_current_pid_tgid(), cookie = bpf_get_attach_cookie(ctx);
	__u32 tid = (__u32)id, idx = ((__u32)cookie >> 8) & 0xff, fn = (__u32)cookie & 0xff;
	struct mem_deleting *del, mark = { .ptr = (__u64)ptr, .set = 1 };
	struct mem_call *cur;
	struct mem_fstats *fs;

	if ((id >> 32) != targ_tgid || stopped || detached[idx & 0xff])
		return 0;
	fs = bpf_map_lookup_elem(&fstats, &idx);
	if (fs)
		fs->entries++;
	cur = bpf_map_lookup_elem(&calls, &tid);
	if (cur && !detached[cur->probe & 0xff])
		return 0;
	del = bpf_map_lookup_elem(&deleting, &tid);
	if (del && del->set && del->ptr == (__u64)ptr) {
		if (fn == MEM_FN_FREE)
			del->set = 0;
		return 0;
	}
	book_free((__u64)ptr, tid, 1);
	if (fn != MEM_FN_FREE)
		bpf_map_update_elem(&deleting, &tid, &mark, BPF_ANY);
	return 0;
}
